namespace DiskImageBuilder.BlockDevice;

internal enum PartitionTableType
{
    Mbr,
    Gpt,
}
