using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Makes filesystem images from a finished tree, as plain files: no loop device, no mount, so it
/// works on hosts without partition scanning or device-mapper.
/// </summary>
public static class FileSystems
{
    public const long MiB = 1024 * 1024;

    public const string Ext4 = "ext4";
    public const string Xfs = "xfs";

    public static readonly IReadOnlyList<string> RootTypes = [Ext4, Xfs];

    /// <summary>mkfs.xfs refuses smaller filesystems.</summary>
    public const long XfsMinimum = 300 * MiB;

    /// <summary>xfs labels hold at most 12 characters, so xfs gets DIB's shorter default.</summary>
    public static string DefaultLabel(string fsType) => fsType == Xfs ? "img-rootfs" : "cloudimg-rootfs";

    public static int MaxLabelLength(string fsType) => fsType == Xfs ? 12 : 16;

    public static string NormalizeType(string? fsType, SourceLocation? location)
    {
        var t = string.IsNullOrWhiteSpace(fsType) ? Ext4 : fsType.Trim().ToLowerInvariant();
        return RootTypes.Contains(t)
            ? t
            : throw new DibException(DibCodes.InvalidProperty, $"Unknown RootFileSystem '{fsType}'. Valid: {string.Join(", ", RootTypes)}.", location);
    }

    /// <summary>Bytes and inodes the tree uses, as du counts them on the host.</summary>
    public static (long Bytes, long Inodes) Usage(string tree, CancellationToken cancellationToken)
    {
        static long Number(string text) => long.Parse(text.Split('\t', ' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        // Side by side: each is a walk of the whole tree. Not -x: mke2fs -d and cp take every file,
        // and in an overlay whose layers sit on another filesystem than its folders, -x counted
        // the folders alone.
        var results = new ProcessResult[2];
        DedicatedThreads.ForEach(2, i => results[i] = ProcessRunner.RunChecked(new ProcessSpec("du", ["-s", i == 0 ? "--block-size=1" : "--inodes", tree]), null, cancellationToken));
        return (Number(results[0].Tail[^1]), Number(results[1].Tail[^1]));
    }

    /// <summary>
    /// The size an ext4 filesystem needs for the tree: its blocks plus a tenth, inode tables, the
    /// journal and reserved blocks, rounded up to whole MiB. Cloud images grow on first boot
    /// (cloud-guest-utils), so headroom stays modest.
    /// </summary>
    public static long RequiredRootSize(long usedBytes, long inodes, string fsType = Ext4)
    {
        if (fsType == Xfs)
        {
            // 512-byte inodes, a 64 MiB log (mkfs.xfs's default from 300 MiB on) and the per-AG
            // btree reservations (reflink, finobt) that df never shows as free.
            var xfs = (usedBytes * 11 / 10) + (inodes * 512) + (64 * MiB) + (128 * MiB);
            xfs = xfs * 100 / 97;
            return Math.Max(XfsMinimum, (xfs + MiB - 1) / MiB * MiB);
        }

        var bytes = (usedBytes * 11 / 10) + (inodes * 256) + (128 * MiB);
        bytes = bytes * 100 / 95; // mke2fs reserves 5% for root
        return (bytes + MiB - 1) / MiB * MiB;
    }

    /// <summary>mke2fs -d: the tree with owners, modes, xattrs, hard links and device nodes, <paramref name="size"/> bytes at <paramref name="offset"/> of an existing disk file.</summary>
    /// <param name="uuid">The filesystem UUID, also its directory hash seed.</param>
    /// <param name="inodes">The inode count to ask for (<see cref="Ext4InodeCount"/>), or null for mke2fs's default.</param>
    /// <param name="epoch">SOURCE_DATE_EPOCH: every time in the filesystem is made reproducible (<see cref="Ext4Times"/>).</param>
    public static void MakeExt4(string disk, long offset, string tree, long size, string label, Guid uuid, long? inodes, long? maxOnlineResize, string? mkfsOptions, IBuildLog log, CancellationToken cancellationToken, long? epoch = null) =>
        MakeExt(Ext4, disk, offset, tree, size, label, uuid, inodes, maxOnlineResize, mkfsOptions, log, cancellationToken, epoch);

    /// <summary><see cref="MakeExt4"/> for any of ext2, ext3, ext4 (<paramref name="fsType"/>); <paramref name="tree"/> null makes it empty.</summary>
    public static void MakeExt(string fsType, string disk, long offset, string? tree, long size, string label, Guid uuid, long? inodes, long? maxOnlineResize, string? mkfsOptions, IBuildLog log, CancellationToken cancellationToken, long? epoch = null)
    {
        var args = new List<string> { "-F", "-q", "-t", fsType, "-L", label };
        if (tree is not null)
        {
            args.AddRange(["-d", tree]);
        }

        var (user, userExtended) = TakeExtendedOptions(SplitOptions(mkfsOptions));
        if (inodes is { } count)
        {
            args.AddRange(["-N", count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        // A given UUID and hash seed, not random ones: the same tree gives the same filesystem, so a
        // rebuild's qcow2 reuses almost every compressed cluster (Qcow2Writer). "-U random" in
        // MkfsOptions restores DIB's behaviour.
        // The scratch disk is a new sparse file, all zeros: nothing to zero in the inode tables or journal.
        var extended = $"offset={offset},hash_seed={uuid},assume_storage_prezeroed=1"
            + (maxOnlineResize is { } blocks ? $",resize={blocks}" : string.Empty)
            + string.Concat(userExtended.Select(e => "," + e));
        args.AddRange(["-U", uuid.ToString(), "-E", extended]);
        args.AddRange(user);
        args.AddRange([disk, $"{size / 1024}k"]);
        Run(new ProcessSpec("mke2fs", args) { Environment = epoch is { } e ? Ext4Times.FakeTime(e) : null }, log, cancellationToken);
        if (epoch is { } pinned)
        {
            Ext4Times.Pin(disk, offset, pinned, log, cancellationToken);
        }
    }

    /// <summary>
    /// The inode count an ext4 root of <paramref name="size"/> bytes needs for a tree of
    /// <paramref name="treeInodes"/>, when the default ratio (one per 16 KiB) gives too few for a
    /// tree of many small files and the user's options do not choose; otherwise null.
    /// </summary>
    public static long? Ext4InodeCount(long treeInodes, long size, string? mkfsOptions)
    {
        var needed = (treeInodes * 13 / 10) + 4096;
        var userChooses = SplitOptions(mkfsOptions).Any(o => o.StartsWith("-N", StringComparison.Ordinal) || o.StartsWith("-i", StringComparison.Ordinal));
        return !userChooses && needed > size / 16384 ? needed : null;
    }

    /// <summary>
    /// xfs cannot be filled from a folder by mkfs.xfs (bookworm's xfsprogs), so the file is loop
    /// mounted inside a private mount and PID namespace and the tree copied in with cp -a (owners,
    /// modes, xattrs, hard links, devices). If anything dies, the namespace takes the mount with it
    /// and the loop device detaches itself (autoclear): nothing is left on the host.
    /// </summary>
    /// <param name="tree">The folder to fill it from, or null for an empty filesystem (no mount).</param>
    /// <param name="uuid">The filesystem UUID (mkfs.xfs -m uuid=).</param>
    public static void MakeXfs(string image, string? tree, string mountPoint, long size, string label, Guid uuid, string? mkfsOptions, IBuildLog log, CancellationToken cancellationToken)
    {
        if (tree is not null && UserNamespace.Current is not null)
        {
            throw XfsNeedsRoot(null);
        }

        using (var f = File.Create(image))
        {
            f.SetLength(size);
        }

        Run(new ProcessSpec("mkfs.xfs", ["-q", "-f", "-L", label, "-m", $"uuid={uuid}", .. SplitOptions(mkfsOptions), image]), log, cancellationToken);
        if (tree is null)
        {
            return;
        }

        Directory.CreateDirectory(mountPoint);
        Run(
            new ProcessSpec("unshare", [
                "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "--",
                "sh", "-c", "set -e; mount -o loop \"$1\" \"$2\"; cp -a \"$3\"/. \"$2\"/; umount \"$2\"", "dib-xfs", image, mountPoint, tree]),
            log,
            cancellationToken,
            result => result.Tail.Any(l => l.Contains("No space left on device", StringComparison.Ordinal))
                ? new DibException(
                    DibCodes.FileSystemFailed,
                    $"The xfs filesystem '{label}' of {size / MiB} MiB could not hold its tree ({Usage(tree, cancellationToken).Bytes / MiB} MiB measured).{ProcessRunner.FormatTail(result.Tail)}")
                : null);
    }

    /// <summary>A user namespace gets no loop devices: the kernel lets only the host's root attach one.</summary>
    public static DibException XfsNeedsRoot(SourceLocation? where) => new(
        DibCodes.NeedsRealRoot,
        "This xfs filesystem is filled through a loop mount, and a build that is not root (it runs in a user namespace) cannot attach a loop device. "
        + "Build it as root, or use ext4 (RootFileSystem=ext4, -o ext4 / FS_TYPE=ext4).",
        where);

    /// <summary>A FAT filesystem (the EFI system partition) filled from a folder with mtools.</summary>
    /// <param name="volumeId">The 32-bit volume id as 8 hex digits (mkfs.vfat -i), or null for one from the clock.</param>
    public static void MakeVfat(string image, string content, long size, string label, IBuildLog log, CancellationToken cancellationToken, string? volumeId = null, string? mkfsOptions = null)
    {
        File.Delete(image);
        string[] idArgs = volumeId is null ? [] : ["-i", volumeId];
        Run(new ProcessSpec("mkfs.vfat", ["-C", "-n", label, .. idArgs, .. SplitOptions(mkfsOptions), image, (size / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)]), log, cancellationToken);
        var entries = Directory.EnumerateFileSystemEntries(content).Order(StringComparer.Ordinal).ToList();
        if (entries.Count > 0)
        {
            Run(new ProcessSpec("mcopy", ["-s", "-p", "-Q", "-i", image, .. entries, "::/"]), log, cancellationToken);
        }
    }

    /// <summary>
    /// mke2fs keeps only the last -E it is given, so the user's extended options (-E x or -Ex) are
    /// taken out of <paramref name="options"/> to join ours rather than replace the offset.
    /// </summary>
    public static (List<string> Others, List<string> Extended) TakeExtendedOptions(IReadOnlyList<string> options)
    {
        var rest = new List<string>();
        var extended = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            if (options[i] == "-E" && i + 1 < options.Count)
            {
                extended.Add(options[++i]);
            }
            else if (options[i].StartsWith("-E", StringComparison.Ordinal) && options[i].Length > 2)
            {
                extended.Add(options[i][2..]);
            }
            else
            {
                rest.Add(options[i]);
            }
        }

        return (rest, extended);
    }

    public static IReadOnlyList<string> SplitOptions(string? options) =>
        (options ?? string.Empty).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <param name="explain">A clearer error for a failure it recognises, else null.</param>
    internal static void Run(ProcessSpec spec, IBuildLog log, CancellationToken cancellationToken, Func<ProcessResult, DibException?>? explain = null)
    {
        var result = ProcessRunner.Run(spec, line => log.Message(LogImportance.Low, $"[{spec.FileName}] {line}"), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw explain?.Invoke(result) ?? new DibException(
                DibCodes.FileSystemFailed,
                $"{spec.FileName} failed with exit code {result.ExitCode} ({string.Join(' ', spec.Arguments)}).{ProcessRunner.FormatTail(result.Tail)}");
        }
    }
}
