namespace DiskImageBuilder.BlockDevice;

internal enum LvmVolumeKind
{
    PhysicalVolume,
    VolumeGroup,
    LogicalVolume,
}
