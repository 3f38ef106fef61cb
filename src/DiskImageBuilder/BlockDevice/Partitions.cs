namespace DiskImageBuilder.BlockDevice;

public enum PartitionTableType
{
    Mbr,
    Gpt,
}

public enum PartitionKind
{
    LinuxFilesystem,
    EfiSystem,
    BiosBoot,
}

/// <summary>
/// One partition the user asked for. <see cref="SizeBytes"/> 0 means "the rest of the disk"
/// (only the last partition may). Sizes are rounded up to whole MiB.
/// </summary>
public sealed record PartitionSpec(string Name, PartitionKind Kind, long SizeBytes, bool Bootable = false);

/// <summary>A planned partition: 1-based number, 512-byte sectors.</summary>
public sealed record Partition(int Number, string Name, PartitionKind Kind, long StartSector, long SectorCount, Guid PartitionGuid, bool Bootable)
{
    public long Offset => StartSector * PartitionTable.SectorSize;

    public long Size => SectorCount * PartitionTable.SectorSize;

    public long EndSector => StartSector + SectorCount - 1;
}

/// <summary>
/// A whole disk's plan. <see cref="MbrSignature"/> is written only for MBR tables
/// (a GPT protective MBR keeps it zero, as the UEFI spec asks).
/// </summary>
public sealed record PartitionLayout(PartitionTableType Type, long DiskSizeBytes, Guid DiskGuid, uint MbrSignature, IReadOnlyList<Partition> Partitions);
