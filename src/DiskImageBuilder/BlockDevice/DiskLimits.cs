using DiskImageBuilder.Output;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Checks an ImageSize before any work against what the disk can be: the partition table's reach,
/// the root filesystem's largest size, and the largest file the host can hold where the disk is
/// assembled and written (the raw disk is one sparse file of that size). Without the check a size
/// such as 100T fails, or runs for hours, in the disk stage after every phase.
/// </summary>
internal static class DiskLimits
{
    /// <summary>MBR entries count 512-byte sectors in 32 bits.</summary>
    public const long Mbr = 1L << 41;

    /// <summary>ext4 as mke2fs makes it here (4 KiB blocks, 64bit): 2^48 blocks.</summary>
    public const long Ext4 = 1L << 60;

    /// <param name="table">The partition table of a block-device configuration; null: the BootMode layout's.</param>
    public static void Check(BuildRequest request, IReadOnlyList<ImageFormat> formats, SourceLocation? where, PartitionTableType? table = null)
    {
        if (request.ImageSize is not { } size || !formats.Any(f => f.IsDisk))
        {
            return;
        }

        table ??= BootModes.NeedsEfi(request.BootMode) ? PartitionTableType.Gpt : PartitionTableType.Mbr;
        if (table == PartitionTableType.Mbr && size > Mbr)
        {
            throw new DibException(
                DibCodes.DiskTooLarge,
                $"ImageSize {Size(size)} is larger than an MBR partition table can address (2 TiB) for BootMode '{request.BootMode}'. "
                + "Use a GPT layout (BootMode uefi or hybrid, element block-device-efi or block-device-gpt) or a smaller ImageSize.",
                where);
        }

        if (request.RootFileSystem == FileSystems.Ext4 && size > Ext4)
        {
            throw new DibException(DibCodes.DiskTooLarge, $"ImageSize {Size(size)} is larger than an ext4 root filesystem can be (1 EiB).", where);
        }

        foreach (var folder in new[] { request.OutputDirectory, request.WorkDirectory }.Select(Existing).Distinct(StringComparer.Ordinal))
        {
            Probe(folder, size, where);
        }
    }

    /// <summary>Makes a sparse file of <paramref name="size"/> bytes in <paramref name="folder"/> and removes it: the host's filesystem says whether it can.</summary>
    private static void Probe(string folder, long size, SourceLocation? where)
    {
        var probe = Path.Combine(folder, $".dib-size-probe-{Guid.NewGuid():N}");
        try
        {
            using var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            file.SetLength(size);
        }
        catch (Exception e) when (e is IOException or ArgumentOutOfRangeException)
        {
            throw new DibException(
                DibCodes.HostCannotHoldDisk,
                $"ImageSize {Size(size)}: the host's filesystem at {folder} cannot hold a disk file that large ({e.Message.TrimEnd('.')}); "
                + "the raw disk is one sparse file of the full size. Choose a smaller ImageSize, or build on a filesystem that allows larger files (xfs, tmpfs).",
                where);
        }
        finally
        {
            File.Delete(probe);
        }
    }

    // The output and work folders may not exist yet: their nearest existing parent is where they will be.
    private static string Existing(string folder)
    {
        var path = Path.GetFullPath(folder);
        while (!Directory.Exists(path))
        {
            path = Path.GetDirectoryName(path) ?? "/";
        }

        return path;
    }

    private static string Size(long bytes) => bytes >= 1L << 40
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 40):0.##} TiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.##} GiB");
}
