namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A PV (base: a partition or disk), VG (bases: its PVs) or LV (base: its VG) of an `lvm` node. An LV has
/// <see cref="Size"/> (LVM's own units, as lvcreate -L reads them) or <see cref="Extents"/> (as lvcreate -l,
/// e.g. 100%FREE); both are kept as written for the LVM writer. <see cref="Options"/> as written.
/// </summary>
internal sealed record LvmVolumeNode(LvmVolumeKind Kind, string Name, IReadOnlyList<string> Bases, string? Size, string? Extents, IReadOnlyList<string> Options, SourceLocation Where)
    : LayoutNode(Name, Bases, Where)
{
    public override string Plugin => BlockDeviceConfigParser.Lvm;
}
