namespace DiskImageBuilder.Host;

/// <summary>Small file-system facts and actions the build needs on the host.</summary>
internal static class HostFiles
{
    /// <summary>Mount points at or below <paramref name="directory"/>, read from /proc/self/mountinfo.</summary>
    public static IReadOnlyList<string> MountsUnder(string directory)
    {
        var prefix = Path.GetFullPath(directory).TrimEnd('/');
        var result = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length < 5)
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]);
            if (mountPoint == prefix || mountPoint.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                result.Add(mountPoint);
            }
        }

        return result;
    }

    /// <summary>
    /// Removes a build directory. Refuses if anything is mounted below it (deleting through a mount
    /// could destroy host files); rm --one-file-system is the second guard.
    /// </summary>
    public static void RemoveTree(string directory)
    {
        if (!Directory.Exists(directory) && !File.Exists(directory))
        {
            return;
        }

        var mounts = MountsUnder(directory);
        if (mounts.Count > 0)
        {
            throw new DibException(
                DibCodes.MountsLeftBehind,
                $"Refusing to delete {directory}: filesystems are mounted below it ({string.Join(", ", mounts)}). Unmount them (umount -R) and build again.");
        }

        ProcessRunner.RunChecked(new ProcessSpec("rm", ["-rf", "--one-file-system", "--", directory]), null, CancellationToken.None);
    }

    /// <summary>True for a file, a directory or a symbolic link, dangling or not (lstat).</summary>
    public static bool LinkOrFileExists(string path) =>
        File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>
    /// Whether <paramref name="pathInTree"/> (absolute, as the image sees it) names a file in the
    /// image tree, following symbolic links the way the image would: an absolute link target is
    /// read inside the tree, never on the host.
    /// </summary>
    public static bool ExistsInTree(string tree, string pathInTree)
    {
        var pending = new Stack<string>(pathInTree.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var resolved = new List<string>();
        for (var hops = 0; pending.Count > 0;)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var here = Path.Combine(tree, Path.Combine([.. resolved, part]));
            if (new FileInfo(here).LinkTarget is { } target)
            {
                if (++hops > 40)
                {
                    return false;
                }

                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                }

                foreach (var next in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                {
                    pending.Push(next);
                }

                continue;
            }

            if (!File.Exists(here) && !Directory.Exists(here))
            {
                return false;
            }

            resolved.Add(part);
        }

        return File.Exists(Path.Combine(tree, Path.Combine([.. resolved])));
    }

    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);

    /// <summary>Whether anyone may run the file (hooks without the bit are skipped, as DIB does).</summary>
    public static bool IsExecutable(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
