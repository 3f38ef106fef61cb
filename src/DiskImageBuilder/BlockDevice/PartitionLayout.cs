namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A whole disk's plan. <see cref="MbrSignature"/> is written only for MBR tables
/// (a GPT protective MBR keeps it zero, as the UEFI spec asks).
/// </summary>
internal sealed record PartitionLayout(PartitionTableType Type, long DiskSizeBytes, Guid DiskGuid, uint MbrSignature, IReadOnlyList<Partition> Partitions);
