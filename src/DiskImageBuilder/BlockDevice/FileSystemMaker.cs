using System.Globalization;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Makes the filesystems of a block-device layout from their parts of the tree (<see cref="TreeSplit"/>)
/// without loop devices or mounts: ext2/3/4 with mke2fs -d straight into the disk file at the
/// partition's offset; xfs through the private-namespace mount of <see cref="FileSystems.MakeXfs"/>
/// (bookworm's mkfs.xfs -p writes a file that gets no single extent over the next AG's headers); vfat with
/// mkfs.vfat and mcopy; swap with mkswap on a file. Whatever is made as a file is then copied onto
/// its extents by <see cref="ExtentCopy"/>.
/// </summary>
internal static class FileSystemMaker
{
    public const string Ext2 = "ext2";
    public const string Ext3 = "ext3";
    public const string Ext4 = FileSystems.Ext4;
    public const string Xfs = FileSystems.Xfs;
    public const string Vfat = "vfat";
    public const string Swap = "swap";

    /// <summary>mkswap refuses less than ten pages.</summary>
    public const long SwapMinimum = 40 * 1024;

    /// <summary>Below this mkfs.vfat has too few clusters for any FAT variant.</summary>
    public const long VfatMinimum = FileSystems.MiB;

    /// <summary>FAT32's limit with 512-byte sectors.</summary>
    public const long VfatMaximum = 2L * 1024 * 1024 * FileSystems.MiB;

    public static readonly IReadOnlyList<string> Types = [Ext2, Ext3, Ext4, Xfs, Vfat, Swap];

    /// <summary>The type as the makers name it ("fat" is vfat, as in DIB); unknown types are DIB0242.</summary>
    public static string NormalizeType(string? fsType, SourceLocation? location = null)
    {
        var t = (fsType ?? string.Empty).Trim().ToLowerInvariant();
        t = t == "fat" ? Vfat : t;
        return Types.Contains(t)
            ? t
            : throw new DibException(DibCodes.UnknownFileSystemType, $"Unknown filesystem type '{fsType}'. Known: {string.Join(", ", Types)}.", location);
    }

    /// <summary>The label as the filesystem stores it: vfat's upper-cased (DIB does the same before checking its length).</summary>
    public static string EffectiveLabel(FileSystemSpec spec) => NormalizeType(spec.Type) == Vfat ? spec.Label.ToUpperInvariant() : spec.Label;

    /// <summary>vfat's 32-bit volume id (its "UUID", shown as XXXX-XXXX): the UUID's first four bytes.</summary>
    public static string VolumeId(Guid uuid) => uuid.ToString("N")[..8].ToUpperInvariant();

    /// <summary>
    /// The size a filesystem of <paramref name="fsType"/> needs for content of <paramref name="bytes"/>
    /// and <paramref name="inodes"/> (as du counts them), whole MiB. Swap has no content: its size
    /// is what the layout gives (<paramref name="bytes"/>), at least <see cref="SwapMinimum"/>.
    /// </summary>
    public static long RequiredSize(string fsType, long bytes, long inodes)
    {
        return NormalizeType(fsType) switch
        {
            Ext2 => Ext(bytes, inodes, journal: false),
            Ext3 or Ext4 => Ext(bytes, inodes, journal: true),
            Xfs => Math.Max(FileSystems.XfsMinimum, RoundMiB((bytes * 11 / 10) + (inodes * 512) + (64 * FileSystems.MiB))),

            // Every file and folder takes at least a cluster (4 KiB up to 8 GiB FAT32), plus the FATs.
            Vfat => Math.Max(VfatMinimum, RoundMiB(((bytes + (inodes * 4096)) * 11 / 10) + FileSystems.MiB)),
            _ => Math.Max(SwapMinimum, (bytes + 4095) / 4096 * 4096),
        };

        static long Ext(long bytes, long inodes, bool journal)
        {
            // Data with a tenth of headroom, an inode table entry per inode with room to grow, the
            // journal mke2fs chooses for the size, and its 5% reserved for root.
            var data = (bytes * 11 / 10) + (inodes * 2 * 256) + (4 * FileSystems.MiB);
            var size = RoundMiB(data * 100 / 95);
            for (var i = 0; journal && i < 3; i++)
            {
                size = RoundMiB((data + JournalBytes(size)) * 100 / 95);
            }

            return size;
        }
    }

    /// <summary>mke2fs's default journal for a filesystem of <paramref name="size"/> bytes (4 KiB blocks).</summary>
    public static long JournalBytes(long size)
    {
        var blocks = size / 4096;
        var journalBlocks = blocks switch
        {
            < 2048 => 0,
            < 32768 => 1024,
            < 256 * 1024 => 4096,
            < 512 * 1024 => 8192,
            < 4096 * 1024 => 16384,
            < 8192 * 1024 => 32768,
            < 16384 * 1024 => 65536,
            < 32768 * 1024 => 131072,
            _ => 262144,
        };
        return journalBlocks * 4096L;
    }

    /// <summary>Refuses sizes the type cannot have (DIB0243), naming <paramref name="what"/> (the layout's entry).</summary>
    public static void CheckSize(FileSystemSpec spec, long size, string what, SourceLocation? location = null)
    {
        var type = NormalizeType(spec.Type, location);
        var problem = type switch
        {
            Xfs when size < FileSystems.XfsMinimum => $"xfs needs at least {FileSystems.XfsMinimum / FileSystems.MiB} MiB",
            Vfat when size < VfatMinimum => $"vfat needs at least {VfatMinimum / FileSystems.MiB} MiB",
            Vfat when size > VfatMaximum => "vfat holds at most 2 TiB",
            Swap when size < SwapMinimum => "swap needs at least 40 KiB",
            Swap when size % 4096 != 0 => "swap is whole 4 KiB pages",
            Ext2 or Ext3 or Ext4 when size < FileSystems.MiB => $"{type} needs at least 1 MiB",
            _ => null,
        };
        if (problem is not null)
        {
            throw new DibException(DibCodes.FileSystemSizeInvalid, $"Filesystem {what} ({type}, label '{spec.Label}'): {size} bytes is too small or too large: {problem}.", location);
        }
    }

    /// <summary>
    /// Makes the filesystem on <paramref name="extents"/> of <paramref name="disk"/> (their total is
    /// its size; the disk there must be zeros, as in a new sparse file). One extent of an ext type is
    /// written in place; anything else is made as a file under <paramref name="work"/> and placed.
    /// </summary>
    /// <param name="content">The filesystem's folder and usage from <see cref="TreeSplit.Split"/>; null for an empty filesystem (and for swap, which ignores it).</param>
    public static void Make(FileSystemSpec spec, FileSystemTree? content, string disk, IReadOnlyList<DiskExtent> extents, string work, IBuildLog log, CancellationToken cancellationToken)
    {
        var type = NormalizeType(spec.Type);
        var size = extents.Sum(e => e.Length);
        if (extents.Count == 1 && type is Ext2 or Ext3 or Ext4)
        {
            CheckSize(spec, size, content?.MountPoint ?? spec.Label);
            Named(spec, content, size, () => MakeExtAt(type, spec, content, disk, extents[0].Offset, size, log, cancellationToken));
            return;
        }

        Directory.CreateDirectory(work);
        var file = Path.Combine(work, $"fs-{spec.Uuid:N}.{type}");
        try
        {
            MakeFile(spec, content, file, size, work, log, cancellationToken);
            ExtentCopy.Place(file, disk, extents, cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Makes the filesystem as <paramref name="file"/> of exactly <paramref name="size"/> bytes, for the caller to place (<see cref="ExtentCopy.Place"/>).</summary>
    public static void MakeFile(FileSystemSpec spec, FileSystemTree? content, string file, long size, string work, IBuildLog log, CancellationToken cancellationToken)
    {
        var type = NormalizeType(spec.Type);
        CheckSize(spec, size, content?.MountPoint ?? spec.Label);
        Directory.CreateDirectory(work);
        File.Delete(file);
        Named(spec, content, size, () => MakeFileOfType(type, spec, content, file, size, work, log, cancellationToken));
    }

    /// <summary>
    /// A failing mkfs names the filesystem it was making and, when content was given, the size
    /// the content needs: "Could not allocate block" alone does not say which of five.
    /// </summary>
    private static void Named(FileSystemSpec spec, FileSystemTree? content, long size, Action make)
    {
        try
        {
            make();
        }
        catch (DibException e) when (e.Diagnostics is [{ Code: DibCodes.FileSystemFailed } d])
        {
            var needs = content is null ? string.Empty : $"; its content ({content.Bytes / FileSystems.MiB} MiB, {content.Inodes} inodes) needs about {RequiredSize(spec.Type, content.Bytes, content.Inodes) / FileSystems.MiB} MiB";
            throw new DibException(
                DibCodes.FileSystemFailed,
                $"Making filesystem {content?.MountPoint ?? spec.Label} ({spec.Type}, label '{spec.Label}', {size / FileSystems.MiB} MiB{needs}) failed: {d.Message}",
                d.Location);
        }
    }

    private static void MakeFileOfType(string type, FileSystemSpec spec, FileSystemTree? content, string file, long size, string work, IBuildLog log, CancellationToken cancellationToken)
    {
        switch (type)
        {
            case Ext2 or Ext3 or Ext4:
                NewFile(file, size);
                MakeExtAt(type, spec, content, file, 0, size, log, cancellationToken);
                break;
            case Xfs:
                FileSystems.MakeXfs(file, content?.Directory, Path.Combine(work, $"xfs-mount-{spec.Uuid:N}"), size, spec.Label, spec.Uuid, spec.Options, log, cancellationToken);
                break;
            case Vfat:
                var folder = content?.Directory ?? Directory.CreateDirectory(Path.Combine(work, $"empty-{spec.Uuid:N}")).FullName;
                FileSystems.MakeVfat(file, folder, size, EffectiveLabel(spec), log, cancellationToken, VolumeId(spec.Uuid), spec.Options);
                if (content is null)
                {
                    Directory.Delete(folder);
                }

                break;
            default:
                NewFile(file, size);
                FileSystems.Run(new ProcessSpec("mkswap", ["-L", spec.Label, "-U", spec.Uuid.ToString(), .. FileSystems.SplitOptions(spec.Options), file]), log, cancellationToken);
                break;
        }
    }

    private static void MakeExtAt(string type, FileSystemSpec spec, FileSystemTree? content, string target, long offset, long size, IBuildLog log, CancellationToken cancellationToken)
    {
        var inodes = content is null ? null : FileSystems.Ext4InodeCount(content.Inodes, size, spec.Options);
        FileSystems.MakeExt(type, target, offset, content?.Directory, size, spec.Label, spec.Uuid, inodes, spec.MaxOnlineResize, spec.Options, log, cancellationToken, spec.Epoch);
    }

    private static void NewFile(string file, long size)
    {
        using var f = File.Create(file);
        f.SetLength(size);
    }

    private static long RoundMiB(long bytes) => (bytes + FileSystems.MiB - 1) / FileSystems.MiB * FileSystems.MiB;
}
