namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One partition the user asked for. <see cref="SizeBytes"/> 0 means "the rest of the disk"
/// (only the last partition may). Sizes are rounded up to whole MiB.
/// </summary>
internal sealed record PartitionSpec(string Name, PartitionKind Kind, long SizeBytes, bool Bootable = false);
