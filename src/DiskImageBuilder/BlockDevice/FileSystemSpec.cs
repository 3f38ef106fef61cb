namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// What a layout's mkfs entry asks for: the type (ext2, ext3, ext4, xfs, vfat, swap), the label
/// (DIB: the entry's name when not given; vfat's upper-cased by the maker), the UUID (DIB: random
/// when not given; give a stable one for reproducible images) and extra mkfs options ("opts").
/// </summary>
internal sealed record FileSystemSpec(string Type, string Label, Guid Uuid, string? Options = null)
{
    /// <summary>SOURCE_DATE_EPOCH: ext2/3/4 are made with every time pinned to it (<see cref="Ext4Times"/>).</summary>
    public long? Epoch { get; init; }

    /// <summary>ext2/3/4: the size in blocks the filesystem may later grow to online (mke2fs -E resize=), or null for mke2fs's default.</summary>
    public long? MaxOnlineResize { get; init; }
}
