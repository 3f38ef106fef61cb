using System.Security.Cryptography;
using System.Text;

namespace DiskImageBuilder.BlockDevice;

/// <summary>Name-based GUIDs: the same text always gives the same GUID, so images are reproducible.</summary>
internal static class StableGuid
{
    public static Guid From(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        var bytes = hash[..16];

        // RFC 9562 layout (big-endian): version 5-style in the high nibble of byte 6, variant 10xx in byte 8.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
