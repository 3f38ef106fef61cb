namespace DiskImageBuilder.BlockDevice;

/// <summary>A planned partition: 1-based number, 512-byte sectors.</summary>
internal sealed record Partition(int Number, string Name, PartitionKind Kind, long StartSector, long SectorCount, Guid PartitionGuid, bool Bootable)
{
    public long Offset => StartSector * PartitionTable.SectorSize;

    public long Size => SectorCount * PartitionTable.SectorSize;

    public long EndSector => StartSector + SectorCount - 1;
}
