using System.Security.Cryptography;
using System.Text;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// LVM's ids (PV, VG, LV): 32 characters of LVM's 64-character alphabet, derived from a name so the same
/// image gets the same ids on every build. On disk the PV header holds the 32 characters; the text
/// metadata writes them in LVM's 6-4-4-4-4-4-6 groups.
/// </summary>
internal static class LvmId
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#";

    public static string From(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);

        // 64 divides 256, so each character is uniform over the alphabet.
        var chars = new char[32];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[hash[i] % 64];
        }

        return new string(chars);
    }

    /// <summary>The form the text metadata and the reports use: 6-4-4-4-4-4-6.</summary>
    public static string Formatted(string id) =>
        string.Join('-', id[..6], id[6..10], id[10..14], id[14..18], id[18..22], id[22..26], id[26..]);
}
