using System.Security.Cryptography;

namespace DiskImageBuilder.Output;

/// <summary>DIB's --checksum.</summary>
internal static class Checksums
{
    /// <summary>DIB's --checksum: "HASH  NAME" files beside each output, as sha256sum/md5sum write them.</summary>
    public static IReadOnlyList<string> Write(IEnumerable<string> outputs, IReadOnlyList<string> algorithms)
    {
        var written = new List<string>();
        foreach (var output in outputs)
        {
            foreach (var algorithm in algorithms)
            {
                using var stream = File.OpenRead(output);
                var hash = algorithm switch
                {
                    "sha256" => SHA256.HashData(stream),
#pragma warning disable CA5351 // md5 is what the user asked for: a transfer check, not security.
                    "md5" => MD5.HashData(stream),
#pragma warning restore CA5351
                    _ => throw new DibException(DibCodes.InvalidProperty, $"Unknown checksum '{algorithm}'. Valid: sha256, md5."),
                };
                var file = $"{output}.{algorithm}";
                File.WriteAllText(file, $"{System.Convert.ToHexStringLower(hash)}  {Path.GetFileName(output)}\n");
                written.Add(file);
            }
        }

        return written;
    }
}
