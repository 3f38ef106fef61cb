namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// The checksum LVM2 puts in its label and metadata-area headers and over the text metadata: CRC-32
/// (reflected polynomial 0xEDB88320) started at 0xf597a6cf and without the final inversion.
/// </summary>
internal static class LvmCrc
{
    public const uint Initial = 0xf597a6cf;

    private static readonly uint[] Table = MakeTable();

    public static uint Compute(ReadOnlySpan<byte> data, uint crc = Initial)
    {
        foreach (var b in data)
        {
            crc = (crc >> 8) ^ Table[(crc ^ b) & 0xFF];
        }

        return crc;
    }

    private static uint[] MakeTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < table.Length; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320 : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
