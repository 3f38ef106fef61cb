namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// `partitioning`: a partition table on <see cref="Base"/>. Not a graph node itself (as in DIB, its
/// partitions are); <see cref="Align"/> is in bytes and applies to MBR only, as in DIB.
/// </summary>
internal sealed record PartitioningNode(string Base, PartitionTableType Label, long Align, IReadOnlyList<PartitionNode> Partitions, SourceLocation Where);
