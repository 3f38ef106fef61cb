namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One filesystem's part of the image tree after <see cref="TreeSplit.Split"/>: the folder to make it
/// from, and what du counts there (bytes and inodes, for sizing with <see cref="FileSystemMaker.RequiredSize"/>).
/// </summary>
/// <param name="MountPoint">The mount point as normalised by <see cref="TreeSplit.Order"/> ("/", "/var/log").</param>
internal sealed record FileSystemTree(string MountPoint, string Directory, long Bytes, long Inodes);
