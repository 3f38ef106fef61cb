using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Splits the finished image tree into one folder per filesystem of a layout: each mount point's
/// subtree leaves the tree for a folder of its own, deepest mount point first, so /var/log's files
/// are not in /var's filesystem. The parent keeps the emptied mount point directory with its owner
/// and mode (the kernel mounts on it at boot), and the new filesystem's root takes them too.
/// </summary>
internal static class TreeSplit
{
    /// <summary>
    /// The mount points, normalised ("/var/log/" → "/var/log") and checked, deepest first ("/" last);
    /// among equal depths, in ordinal order so the order does not depend on the layout's.
    /// </summary>
    public static IReadOnlyList<string> Order(IReadOnlyList<string> mountPoints, SourceLocation? location = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var given in mountPoints)
        {
            var normal = Normalize(given, location);
            if (!seen.Add(normal))
            {
                throw new DibException(DibCodes.InvalidMountPoint, $"Mount point '{given}' is given more than once: each filesystem needs its own.", location);
            }
        }

        if (!seen.Contains("/"))
        {
            throw new DibException(DibCodes.InvalidMountPoint, $"The layout has no filesystem mounted at '/' (mount points: {string.Join(", ", mountPoints)}).", location);
        }

        return [.. seen.OrderByDescending(Depth).ThenBy(m => m, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Moves each mount point's subtree out of <paramref name="tree"/> into a new folder under
    /// <paramref name="work"/>; the root's folder is <paramref name="tree"/> itself. Copied then
    /// deleted, never renamed: the tree may be an overlay mount, whose lower directories a rename
    /// cannot move (EXDEV). cp -a keeps owners, modes, xattrs, hard links, device nodes, symlinks
    /// and times. Returns the filesystems in the order of <see cref="Order"/>, each measured with du.
    /// </summary>
    /// <param name="measureRoot">False: the root's folder is not measured (its sizes are 0); the caller measures it, e.g. while it makes the filesystem.</param>
    public static IReadOnlyList<FileSystemTree> Split(string tree, string work, IReadOnlyList<string> mountPoints, CancellationToken cancellationToken, SourceLocation? location = null, bool measureRoot = true)
    {
        var ordered = Order(mountPoints, location);
        var folders = new List<(string MountPoint, string Directory)>();
        foreach (var mountPoint in ordered)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (mountPoint == "/")
            {
                folders.Add((mountPoint, tree));
                continue;
            }

            var source = Prepare(tree, mountPoint, location);
            var target = Path.Combine(work, "fs" + mountPoint.Replace('/', '-'));
            HostFiles.RemoveTree(target);
            Directory.CreateDirectory(target);

            // "source/." onto an existing folder: the folder takes the mount point's owner, mode and xattrs.
            ProcessRunner.RunChecked(new ProcessSpec("cp", ["-a", "--", source + "/.", target]), null, cancellationToken);
            foreach (var entry in Directory.EnumerateFileSystemEntries(source))
            {
                if (Directory.Exists(entry) && new FileInfo(entry).LinkTarget is null)
                {
                    HostFiles.RemoveTree(entry);
                }
                else
                {
                    File.Delete(entry);
                }
            }

            folders.Add((mountPoint, target));
        }

        var result = new FileSystemTree[folders.Count];
        for (var i = 0; i < folders.Count; i++)
        {
            var (bytes, inodes) = measureRoot || folders[i].MountPoint != "/" ? FileSystems.Usage(folders[i].Directory, cancellationToken) : (0, 0);
            result[i] = new FileSystemTree(folders[i].MountPoint, folders[i].Directory, bytes, inodes);
        }

        return result;
    }

    private static int Depth(string mountPoint) => mountPoint == "/" ? 0 : mountPoint.Count(c => c == '/');

    private static string Normalize(string mountPoint, SourceLocation? location)
    {
        var trimmed = mountPoint.Trim();
        var parts = trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!trimmed.StartsWith('/') || parts.Any(p => p is "." or ".."))
        {
            throw new DibException(DibCodes.InvalidMountPoint, $"Mount point '{mountPoint}' is not an absolute path without '.' or '..' parts.", location);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>
    /// The mount point's folder in the tree, made (0755, like mount's mkdir -p) if the tree has none,
    /// after checking no part of its path is a symbolic link, which would lead outside the tree.
    /// </summary>
    private static string Prepare(string tree, string mountPoint, SourceLocation? location)
    {
        var path = tree;
        foreach (var part in mountPoint.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = Path.Combine(path, part);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                throw new DibException(
                    DibCodes.MountPointNotDirectory,
                    $"Mount point {mountPoint}: {path[tree.Length..]} is a symbolic link in the image (to {info.LinkTarget}), so its content cannot go to a filesystem of its own.",
                    location);
            }

            if (info.Exists)
            {
                throw new DibException(DibCodes.MountPointNotDirectory, $"Mount point {mountPoint}: {path[tree.Length..]} is a file in the image, not a directory.", location);
            }

            if (!Directory.Exists(path))
            {
                Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }

        return path;
    }
}
