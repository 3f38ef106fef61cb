namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// What the image's options give DIB's `mkfs_root` node when it does not say (DIB merges --root-label,
/// FS_TYPE and --mkfs-options the same way): its type, label (null: DIB's default for the type) and mkfs options.
/// </summary>
internal sealed record RootDefaults(string Type, string? Label, string? Options)
{
    /// <summary>The name DIB gives these defaults to: the tree form's `mkfs` under partition `root`.</summary>
    public const string NodeName = "mkfs_root";
}
