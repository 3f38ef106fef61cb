using System.Security.Cryptography;
using System.Text;

namespace DiskImageBuilder.Host;

/// <summary>Short, stable names for values that must not appear as they are (paths, secrets) in cache keys and file names.</summary>
internal static class Fingerprint
{
    /// <summary>The first 128 bits of the SHA-256 of the text, in hex.</summary>
    public static string Of(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}
