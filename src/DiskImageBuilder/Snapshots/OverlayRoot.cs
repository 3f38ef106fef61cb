using DiskImageBuilder.Host;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// The image tree as an overlay mount: committed layers below, this step's changes in a fresh upper
/// directory. The mount lives in a mount namespace of its own, held by a small process tethered to
/// the build: no other process on the host ever sees (or copies) it, and it vanishes with that
/// process, also when the build is killed. Scripts enter the namespace (<see cref="Enter"/>); the
/// engine reaches the tree through <c>/proc/PID/root</c> (<see cref="HostView"/>).
/// </summary>
internal sealed class OverlayRoot : IDisposable
{
    private readonly string _mountPoint;
    private readonly TetheredProcess _holder;

    public OverlayRoot(string mountPoint)
    {
        _mountPoint = Path.GetFullPath(mountPoint);
        _holder = ProcessRunner.StartTethered(new ProcessSpec("unshare", ["--mount", "--propagation", "private", "--", "cat"]));

        // unshare makes the namespace, then makes its mounts private, then becomes cat: wait for
        // both, or we would enter ours, or mount while the new namespace still shares its mounts with
        // the host's, and the overlay would propagate into the host's mount table (seen on a loaded host).
        var ours = File.ResolveLinkTarget("/proc/self/ns/mnt", false)?.ToString();
        if (!SpinWait.SpinUntil(() => _holder.HasExited || (File.ResolveLinkTarget(Namespace, false)?.ToString() != ours && PrivateMounts()), TimeSpan.FromSeconds(10)) || _holder.HasExited)
        {
            _holder.Dispose();
            throw new DibException(DibCodes.PhaseCacheUnavailable, "Could not create a private mount namespace for the image tree (unshare --mount).");
        }
    }

    public bool Mounted { get; private set; }

    /// <summary>Whether no mount in the holder's namespace is shared with another namespace (mountinfo's optional "shared:N" field).</summary>
    private bool PrivateMounts()
    {
        try
        {
            return File.ReadLines($"/proc/{_holder.Id}/mountinfo").All(l => !l.Contains(" shared:", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The tree as seen from the host: through the holder's root, inside its namespace.</summary>
    public string HostView => Outside(_mountPoint);

    /// <summary>A path of the namespace (such as a folder of its tmpfs) as the host reaches it.</summary>
    public string Outside(string path) => $"/proc/{_holder.Id}/root{path}";

    /// <summary>The command prefix that runs a program inside the tree's namespace.</summary>
    public IReadOnlyList<string> Enter => ["nsenter", $"--mount={Namespace}", "--"];

    private string Namespace => $"/proc/{_holder.Id}/ns/mnt";

    /// <param name="lowers">Layer trees, topmost first; the last one is the store's empty directory.</param>
    public void Mount(IReadOnlyList<string> lowers, string upper, string work)
    {
        // Made as the namespace sees them: the upper may be in its tmpfs (MountMemory).
        Directory.CreateDirectory(Outside(upper));
        Directory.CreateDirectory(Outside(work));
        if (lowers.Append(upper).Append(work).Any(p => p.Contains(',', StringComparison.Ordinal) || p.Contains(':', StringComparison.Ordinal)))
        {
            throw new DibException(DibCodes.PhaseCacheUnavailable, $"The image cache path cannot hold ',' or ':' for an overlay mount ({upper}).");
        }

        // index=on keeps hard links whole when one name of a lower file is copied up (see
        // KeepHardLinks); no redirects or metacopy: each layer holds whole files, on its own.
        // In a user namespace (a rootless build) the overlay keeps its own attributes in user.* xattrs
        // (userxattr, kernel 5.11 on), which rules out index and redirect_dir=off: there, hard links are
        // only kept whole by KeepHardLinks, and no directory rename makes a redirect (nofollow).
        var options = UserNamespace.Current is null
            ? $"lowerdir={string.Join(':', lowers)},upperdir={upper},workdir={work},index=on,redirect_dir=off,metacopy=off"
            : $"lowerdir={string.Join(':', lowers)},upperdir={upper},workdir={work},userxattr,redirect_dir=nofollow,metacopy=off";
        for (var attempt = 1; ; attempt++)
        {
            InNamespace("mount", "-t", "overlay", "dib-phase-cache", "-o", options, _mountPoint);
            if (LeakedIntoOurs().Count == 0)
            {
                break;
            }

            // Seen on a loaded host (two test suites at once): the mount landed in this process's
            // namespace, the host's, instead of the holder's. Take it back and try again; never
            // build on a tree the host can see.
            RemoveLeaked();
            if (attempt == 3)
            {
                throw new DibException(DibCodes.PhaseCacheUnavailable, $"The overlay for the image tree kept appearing in the host's mount table instead of the build's own namespace ({_mountPoint}).");
            }

            Thread.Sleep(200 * attempt);
        }

        Mounted = true;
    }

    /// <summary>Mounts at or below the tree in this process's own namespace: there should be none.</summary>
    private IReadOnlyList<string> LeakedIntoOurs() => HostFiles.MountsUnder(_mountPoint);

    private void RemoveLeaked()
    {
        foreach (var mount in LeakedIntoOurs().OrderByDescending(m => m.Length))
        {
            ProcessRunner.Run(new ProcessSpec("umount", ["-l", "--", mount]), null, CancellationToken.None);
        }
    }

    /// <summary>
    /// Mounts a tmpfs on <paramref name="directory"/> in the namespace only, so it vanishes with the
    /// namespace however the build ends. False (and nothing mounted) when the mount showed up in the
    /// host's mount table instead (see <see cref="Mount"/>).
    /// </summary>
    public bool MountMemory(string directory)
    {
        Directory.CreateDirectory(directory);
        InNamespace("mount", "-t", "tmpfs", "-o", "mode=0700", "dib-phase-memory", directory);
        if (HostFiles.MountsUnder(directory).Count == 0)
        {
            return true;
        }

        ProcessRunner.Run(new ProcessSpec("umount", ["-l", "--", directory]), null, CancellationToken.None);
        return false;
    }

    /// <summary>Runs a command where the namespace's mounts (the tree, its tmpfs) are seen.</summary>
    public void InNamespace(params string[] command) =>
        ProcessRunner.RunChecked(new ProcessSpec(Enter[0], [.. Enter.Skip(1), .. command]), null, CancellationToken.None);

    public void Unmount()
    {
        if (Mounted)
        {
            InNamespace("umount", _mountPoint);
            Mounted = false;
        }
    }

    /// <summary>
    /// Copy-up makes a new file in the upper layer for the one name that was changed; the other
    /// names of a hard-linked file would stay in the lower layer, and the link would be lost once
    /// the upper layer is committed. Touching those names (a chmod to their own mode) makes the
    /// overlay link them up too, so the layer holds the whole group.
    /// </summary>
    public void KeepHardLinks(string upper)
    {
        // Cheap test first: a copied-up hard link has more than one link in the upper layer too
        // (the overlay's index holds one); with none there, no group can be split.
        var candidates = ProcessRunner.RunChecked(
            new ProcessSpec("find", [upper, "-type", "f", "-links", "+1", "-print", "-quit"]), null, CancellationToken.None);
        if (candidates.Tail.Count == 0)
        {
            return;
        }

        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        ProcessRunner.RunChecked(
            new ProcessSpec("find", [HostView, "-xdev", "-type", "f", "-links", "+1", "-printf", "%D:%i\\t%P\\n"]),
            line =>
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                if (tab > 0)
                {
                    (groups.TryGetValue(line[..tab], out var names) ? names : groups[line[..tab]] = []).Add(line[(tab + 1)..]);
                }
            },
            CancellationToken.None);

        foreach (var names in groups.Values.Where(n => n.Count > 1))
        {
            var inUpper = names.Where(n => File.Exists(Path.Combine(upper, n))).ToList();
            if (inUpper.Count == 0 || inUpper.Count == names.Count)
            {
                continue;
            }

            foreach (var name in names.Except(inUpper))
            {
                var path = Path.Combine(HostView, name);
                File.SetUnixFileMode(path, File.GetUnixFileMode(path));
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Unmount();
        }
        finally
        {
            // The namespace, and any mount left in it, ends with its last process.
            _holder.Dispose();

            // And nothing of the tree stays in the host's mount table, however it got there.
            RemoveLeaked();
        }
    }
}
