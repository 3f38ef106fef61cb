namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A whole disk's plan. <see cref="MbrSignature"/> is written only for MBR tables
/// (a GPT protective MBR keeps it zero, as the UEFI spec asks). <see cref="Extended"/> is the MBR's
/// extended partition holding the logical ones, if any (its number is its slot in the MBR, 1-4).
/// </summary>
internal sealed record PartitionLayout(PartitionTableType Type, long DiskSizeBytes, Guid DiskGuid, uint MbrSignature, IReadOnlyList<Partition> Partitions, Partition? Extended = null);
