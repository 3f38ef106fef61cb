namespace DiskImageBuilder.BlockDevice;

/// <summary>A planned volume group: its physical volumes in metadata order and its linear logical volumes.</summary>
internal sealed record LvmVolumeGroup(string Name, string Id, long ExtentSize, IReadOnlyList<LvmPhysicalVolume> PhysicalVolumes, IReadOnlyList<LogicalVolume> LogicalVolumes)
{
    public long ExtentCount => PhysicalVolumes.Sum(p => p.PeCount);

    public long FreeExtents => ExtentCount - LogicalVolumes.Sum(l => l.ExtentCount);
}
