namespace DiskImageBuilder.BlockDevice;

internal enum PartitionKind
{
    LinuxFilesystem,
    EfiSystem,
    BiosBoot,
}
