using System.Buffers.Binary;
using System.Globalization;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Places a configuration's partitions exactly where diskimage-builder places them for the same disk
/// size. MBR (DIB writes it itself): partitions in order, each start aligned to `align`, each exactly its
/// size in sectors, the next one after the aligned end; logical partitions in one extended partition
/// from the first logical to the end of the disk, each behind its own EBR one alignment before its data.
/// GPT (DIB runs `sgdisk -n N:0:+SIZEM`): whole MiB (sizes rounded down), one after the other from
/// sector 2048. Percentages are of the space still free (MBR: up to one alignment before the end;
/// GPT: the disk less 2 MiB, less the bytes the earlier partitions asked for).
/// </summary>
internal static class DibPartitioner
{
    private const long Sector = PartitionTable.SectorSize;
    private const long GptAlignment = FileSystems.MiB / Sector;

    public static PartitionLayout Plan(PartitioningNode table, long diskSizeBytes, string seed)
    {
        if (diskSizeBytes <= 0 || diskSizeBytes % Sector != 0)
        {
            throw new DibException(DibCodes.InvalidPartitionLayout, $"The disk size must be a positive whole number of {Sector}-byte sectors; it is {diskSizeBytes} bytes.", table.Where);
        }

        var partitions = table.Label == PartitionTableType.Mbr ? Mbr(table, diskSizeBytes, seed, out var extended) : Gpt(table, diskSizeBytes, seed, out extended);
        var signature = BinaryPrimitives.ReadUInt32LittleEndian(StableGuid.From($"{seed}:mbr-signature").ToByteArray());
        return new PartitionLayout(table.Label, diskSizeBytes, StableGuid.From($"{seed}:disk"), signature, partitions, extended);
    }

    private static List<Partition> Mbr(PartitioningNode table, long diskSize, string seed, out Partition? extended)
    {
        var align = table.Align / Sector;
        long Align(long block) => block % align == 0 ? block : ((block / align) + 1) * align;
        var diskBlocks = diskSize / Sector;
        var nextFree = Align(1);
        var slot = 0;
        extended = null;
        var result = new List<Partition>();
        foreach (var p in table.Partitions)
        {
            var free = diskSize - ((nextFree + Align(1)) * Sector);
            var size = p.Size.Resolve(free);
            var count = size / Sector;
            var type = BlockDeviceConfigParser.MbrType(p.TypeCode);
            var kind = type == 0xEF ? PartitionKind.EfiSystem : PartitionKind.LinuxFilesystem;
            var guid = StableGuid.From($"{seed}:partition:{p.Name}");
            if (p.Primary)
            {
                if (slot >= 4)
                {
                    throw Invalid(p, "an MBR table holds four primary partitions (three with logical ones); make the others logical (no 'primary' flag).");
                }

                var start = Align(nextFree);
                Check(p, start, count, diskBlocks, diskSize);
                result.Add(new Partition(slot + 1, p.Name, kind, start, count, guid, p.Boot, MbrType: type));
                nextFree = Align(start + count);
                slot++;
                continue;
            }

            if (extended is null)
            {
                if (slot >= 4)
                {
                    throw Invalid(p, "an MBR table with four primary partitions has no slot left for the extended partition that holds logical ones.");
                }

                extended = new Partition(slot + 1, "extended", PartitionKind.LinuxFilesystem, nextFree, diskBlocks - nextFree, Guid.Empty, false, MbrType: 0x0F);
                slot = 4;
            }

            var ebr = nextFree;
            var dataStart = Align(ebr + 1);
            Check(p, dataStart, count, diskBlocks, diskSize);
            var end = Align(dataStart + count);
            result.Add(new Partition(slot + 1, p.Name, kind, dataStart, count, guid, p.Boot, MbrType: type, EbrSector: ebr, EbrSpan: end - ebr));
            nextFree = end;
            slot++;
        }

        return result;
    }

    private static List<Partition> Gpt(PartitioningNode table, long diskSize, string seed, out Partition? extended)
    {
        extended = null;
        var free = diskSize - (2 * FileSystems.MiB);
        var start = GptAlignment;
        var lastUsable = (diskSize / Sector) - 34;
        var result = new List<Partition>();
        for (var i = 0; i < table.Partitions.Count; i++)
        {
            var p = table.Partitions[i];
            if (p.Name.Length > 36)
            {
                throw Invalid(p, "a GPT partition name holds at most 36 characters.");
            }

            var size = p.Size.Resolve(free);
            var count = size / FileSystems.MiB * GptAlignment;
            if (size > free || start + count - 1 > lastUsable)
            {
                throw DoesNotFit(p, size, Math.Max(free, 0), diskSize);
            }

            if (count == 0)
            {
                throw Invalid(p, $"its size ({p.Size}, {size} bytes here) is less than the 1 MiB a GPT partition gets at least.");
            }

            var type = GptTypes.Of(p.TypeCode);
            var kind = type == GptTypes.Of("EF00") ? PartitionKind.EfiSystem : type == GptTypes.Of("EF02") ? PartitionKind.BiosBoot : PartitionKind.LinuxFilesystem;
            result.Add(new Partition(i + 1, p.Name, kind, start, count, StableGuid.From($"{seed}:partition:{p.Name}"), false, GptType: type));
            start += count;
            free -= size;
        }

        return result;
    }

    private static void Check(PartitionNode p, long start, long count, long diskBlocks, long diskSize)
    {
        if (count <= 0)
        {
            throw Invalid(p, $"its size ({p.Size}) is less than one sector here.");
        }

        if (start + count > diskBlocks)
        {
            throw DoesNotFit(p, count * Sector, Math.Max(0, (diskBlocks - start) * Sector), diskSize);
        }

        if (start + count - 1 > uint.MaxValue)
        {
            throw Invalid(p, "it would end past 2 TiB, which an MBR table cannot address; use label: gpt.");
        }
    }

    private static DibException Invalid(PartitionNode p, string why) => new(DibCodes.InvalidPartitionLayout, $"Partition '{p.Name}': {why}", p.Where);

    private static DibException DoesNotFit(PartitionNode p, long size, long free, long diskSize) => new(
        DibCodes.PartitionLayoutDoesNotFit,
        string.Create(CultureInfo.InvariantCulture, $"Partition '{p.Name}' ({p.Size}: {size} bytes) does not fit the {diskSize / (double)FileSystems.MiB:0.##} MiB disk: {free} bytes are left for it. Make the disk larger (ImageSize, local_loop size) or the partition smaller."),
        p.Where);
}
