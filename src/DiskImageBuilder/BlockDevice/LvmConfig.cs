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
    SourceLocation? Location = null)
{
    /// <summary>The writer's view of a configuration's `lvm` node.</summary>
    public static LvmConfig From(LvmNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new LvmConfig(
            node.Name,
            [.. node.Pvs.Select(p => new LvmPhysicalVolumeConfig(p.Name, p.Bases.Count > 0 ? p.Bases[0] : string.Empty, p.Options, p.Where))],
            [.. node.Vgs.Select(v => new LvmVolumeGroupConfig(v.Name, v.Bases, v.Options, v.Where))],
            [.. node.Lvs.Select(l => new LvmLogicalVolumeConfig(l.Name, l.Bases.Count > 0 ? l.Bases[0] : string.Empty, l.Size, l.Extents, Options: l.Options, Location: l.Where))],
            node.Where);
    }
}
