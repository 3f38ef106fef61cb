namespace DiskImageBuilder.BlockDevice;

/// <summary>Everything one `lvm` entry makes: its volume groups, and by name each logical volume's place in the disk file.</summary>
internal sealed record LvmVolumes(string Name, IReadOnlyList<LvmVolumeGroup> VolumeGroups)
{
    public IReadOnlyList<LogicalVolume> LogicalVolumes => [.. VolumeGroups.SelectMany(v => v.LogicalVolumes)];

    public LogicalVolume this[string name] => LogicalVolumes.Single(l => l.Name == name);
}
