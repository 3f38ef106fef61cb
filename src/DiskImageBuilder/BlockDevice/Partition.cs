namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A planned partition: 1-based number, 512-byte sectors. <see cref="GptType"/>/<see cref="MbrType"/>
/// override the type <see cref="Kind"/> implies (a configuration's `type`). A logical MBR partition
/// (numbers from 5) has its EBR at <see cref="EbrSector"/>, and <see cref="EbrSpan"/> sectors from there
/// to the aligned end of its data (what the EBR before it records).
/// </summary>
internal sealed record Partition(
    int Number, string Name, PartitionKind Kind, long StartSector, long SectorCount, Guid PartitionGuid, bool Bootable,
    Guid? GptType = null, byte? MbrType = null, long EbrSector = 0, long EbrSpan = 0)
{
    public long Offset => StartSector * PartitionTable.SectorSize;

    public long Size => SectorCount * PartitionTable.SectorSize;

    public long EndSector => StartSector + SectorCount - 1;

    public bool Logical => EbrSector > 0;
}
