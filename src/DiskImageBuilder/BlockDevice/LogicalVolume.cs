namespace DiskImageBuilder.BlockDevice;

/// <summary>A planned logical volume and where its bytes are in the disk file.</summary>
internal sealed record LogicalVolume(string Name, string VolumeGroup, string Id, long ExtentSize, IReadOnlyList<LvmSegment> Segments)
{
    public long ExtentCount => Segments.Sum(s => s.ExtentCount);

    public long Size => ExtentCount * ExtentSize;

    /// <summary>The LV's bytes as (offset, length) ranges of the disk file, in LV order (an LV may span physical volumes).</summary>
    public IReadOnlyList<DiskExtent> Extents => [.. Segments.Select(s => new DiskExtent(s.Offset, s.Length))];

    /// <summary>The node the booted guest's LVM makes for it (udev's /dev/VG/LV link points at the same device).</summary>
    public string MapperPath => $"/dev/mapper/{VolumeGroup.Replace("-", "--", StringComparison.Ordinal)}-{Name.Replace("-", "--", StringComparison.Ordinal)}";
}
