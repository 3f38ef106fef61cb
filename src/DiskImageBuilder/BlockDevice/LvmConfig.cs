namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One `lvm` entry of a block-device configuration, as DIB's lvm plugin reads it: physical volumes on
/// partitions, volume groups on physical volumes, logical volumes in volume groups.
/// </summary>
internal sealed record LvmConfig(
    string Name,
    IReadOnlyList<LvmPhysicalVolumeConfig> PhysicalVolumes,
    IReadOnlyList<LvmVolumeGroupConfig> VolumeGroups,
    IReadOnlyList<LvmLogicalVolumeConfig> LogicalVolumes,
    SourceLocation? Location = null);
