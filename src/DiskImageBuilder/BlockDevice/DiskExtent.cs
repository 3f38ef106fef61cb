namespace DiskImageBuilder.BlockDevice;

/// <summary>A byte range of the disk file: a partition, or one stretch of a logical volume.</summary>
internal sealed record DiskExtent(long Offset, long Length);
