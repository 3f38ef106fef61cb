namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// `lvm`: physical volumes on partitions (or the disk), volume groups over them and logical volumes in
/// those. Its edges are the PVs' bases; the PVs, VGs and LVs are graph nodes of their own
/// (<see cref="LvmVolumeNode"/>), so a `mkfs` can name an LV as its base.
/// </summary>
internal sealed record LvmNode(string Name, IReadOnlyList<LvmVolumeNode> Pvs, IReadOnlyList<LvmVolumeNode> Vgs, IReadOnlyList<LvmVolumeNode> Lvs, SourceLocation Where)
    : LayoutNode(Name, [.. Pvs.SelectMany(p => p.Bases).Distinct(StringComparer.Ordinal)], Where)
{
    public override string Plugin => BlockDeviceConfigParser.Lvm;
}
