using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DiskImageBuilder.Snapshots;

/// <summary>One step's own inputs: the files of its folder in the merged hooks tree, as fingerprints.</summary>
internal sealed record StepInput(string Name, SortedDictionary<string, string> Files);
