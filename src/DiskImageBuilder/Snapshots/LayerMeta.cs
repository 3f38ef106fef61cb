using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DiskImageBuilder.Snapshots;

/// <summary>What a layer records about itself, to tell a whole layer from a damaged one.</summary>
internal sealed record LayerMeta(string Key, string? Parent, string Step, long Entries, long Bytes, string Digest);
