using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DiskImageBuilder.Snapshots;

/// <summary>A committed snapshot: the changes one step made to the tree, as an overlay layer.</summary>
internal sealed record Layer(string Key, string Directory)
{
    public string Tree => Path.Combine(Directory, "tree");
}
