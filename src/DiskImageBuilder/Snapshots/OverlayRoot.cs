namespace DiskImageBuilder.Snapshots;

/// <summary>
/// The image tree as an overlay mount: committed layers below, this step's changes in a fresh upper
/// directory. Mounted in the build's own mount namespace only while phases run, unmounted on
/// every path out; a mount left by a killed build is found and removed by the next build.
/// </summary>
public sealed class OverlayRoot
{
    /// <summary>The mount source name that marks our overlays in /proc/self/mountinfo.</summary>
    public const string Source = "dib-phase-cache";

    private readonly string _mountPoint;

    public OverlayRoot(string mountPoint) => _mountPoint = mountPoint;

    public bool Mounted { get; private set; }

    /// <param name="lowers">Layer trees, topmost first; the last one is the store's empty directory.</param>
    public void Mount(IReadOnlyList<string> lowers, string upper, string work)
    {
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);

        // index=on keeps hard links whole when one name of a lower file is copied up (see
        // KeepHardLinks); no redirects or metacopy: each layer holds whole files, on its own.
        var options = $"lowerdir={string.Join(':', lowers)},upperdir={upper},workdir={work},index=on,redirect_dir=off,metacopy=off";
        if (lowers.Append(upper).Append(work).Any(p => p.Contains(',', StringComparison.Ordinal) || p.Contains(':', StringComparison.Ordinal)))
        {
            throw new DibException(DibCodes.PhaseCacheUnavailable, $"The image cache path cannot hold ',' or ':' for an overlay mount ({upper}).");
        }

        ProcessRunner.RunChecked(new ProcessSpec("mount", ["-t", "overlay", Source, "-o", options, _mountPoint]), null, CancellationToken.None);
        Mounted = true;
    }

    public void Unmount()
    {
        if (Mounted)
        {
            ProcessRunner.RunChecked(new ProcessSpec("umount", [_mountPoint]), null, CancellationToken.None);
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
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        ProcessRunner.RunChecked(
            new ProcessSpec("find", [_mountPoint, "-xdev", "-type", "f", "-links", "+1", "-printf", "%i\\t%P\\n"]),
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
                var path = Path.Combine(_mountPoint, name);
                File.SetUnixFileMode(path, File.GetUnixFileMode(path));
            }
        }
    }

    /// <summary>Unmounts overlays of ours at or below <paramref name="directory"/> that a killed build left behind.</summary>
    public static void UnmountStale(string directory)
    {
        foreach (var mountPoint in HostFiles.MountsUnder(directory, Source).OrderByDescending(m => m.Length))
        {
            ProcessRunner.RunChecked(new ProcessSpec("umount", [mountPoint]), null, CancellationToken.None);
        }
    }
}
