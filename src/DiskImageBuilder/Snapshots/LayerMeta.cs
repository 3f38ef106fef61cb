using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DiskImageBuilder.Snapshots;

/// <summary>What a layer records about itself, to tell a whole layer from a damaged one.</summary>
/// <param name="Digest">Of the file list: names, types, modes, owners, sizes, link targets.</param>
/// <param name="Content">Of every regular file's content (null in layers written before it was recorded).</param>
internal sealed record LayerMeta(string Key, string? Parent, string Step, long Entries, long Bytes, string Digest, string? Content = null);
