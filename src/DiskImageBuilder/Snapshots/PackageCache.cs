using DiskImageBuilder.Host;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// apt's downloads kept in the image cache (DIB's <c>DIB_APT_LOCAL_CACHE</c>): the .deb files and the
/// package lists, in one pool per distro (<c>$DIB_IMAGE_CACHE/apt/DISTRO/archives</c> and <c>lists</c>).
/// Each build works on a view of its own: hard links to the pool in a folder beside it, so apt's
/// locks and half-downloaded files are never shared by builds running at once. Scripts inside the
/// image get the view mounted at <c>/var/cache/apt/archives</c> and <c>/var/lib/apt/lists</c>, host
/// scripts (the bootstrap) get its path in <c>DIB_APT_CACHE_DIR</c>: the files never enter the tree,
/// so no snapshot and no image holds them. After every step, what is new in the view is linked into
/// the pool under a temporary name and renamed over the old one: another build sees a whole file or none.
/// </summary>
internal sealed class PackageCache : IDisposable
{
    /// <summary>DIB's switch: 0 turns the cache off.</summary>
    public const string Switch = "DIB_APT_LOCAL_CACHE";

    /// <summary>The build's view, for scripts on the host (archives/ and lists/ inside).</summary>
    public const string ViewVariable = "DIB_APT_CACHE_DIR";

    private static readonly string[] Folders = ["archives", "lists"];

    // apt's own entries in those folders: its lock and half-done downloads stay in the build's view.
    private static readonly HashSet<string> AptOwn = new(StringComparer.Ordinal) { "lock", "partial", "auxfiles", "lost+found" };

    private readonly string _pool;
    private readonly FileLock _lock;
    private readonly string _lockPath;
    private readonly IBuildLog _log;

    // What the view holds that the pool has too (name → size and time): only other files are new.
    private readonly Dictionary<string, (long Length, DateTime Written)> _known = new(StringComparer.Ordinal);
    private bool _broken;

    private PackageCache(string pool, string view, FileLock viewLock, string lockPath, IBuildLog log)
    {
        _pool = pool;
        View = view;
        _lock = viewLock;
        _lockPath = lockPath;
        _log = log;
    }

    /// <summary>The build's own folder (archives/, lists/), mounted into the image.</summary>
    public string View { get; }

    /// <summary>Bytes of .deb files in the pool.</summary>
    public long PoolBytes => Debs().Sum(f => f.Length);

    /// <summary>
    /// The cache for a build whose environment names a distro (an operating-system element sets
    /// DISTRO_NAME), unless <see cref="Switch"/> is 0. A cache that cannot be used is a warning.
    /// </summary>
    public static PackageCache? Open(string cacheDirectory, IReadOnlyDictionary<string, string> environment, IBuildLog log)
    {
        if (environment.TryGetValue(Switch, out var on) && on.Trim() == "0")
        {
            log.Message(LogImportance.Normal, $"DiskImageBuilder: package cache off ({Switch}=0)");
            return null;
        }

        if (!environment.TryGetValue("DISTRO_NAME", out var distro) || string.IsNullOrWhiteSpace(distro) || distro.Contains('/', StringComparison.Ordinal) || distro.StartsWith('.'))
        {
            return null;
        }

        FileLock? viewLock = null;
        try
        {
            var apt = Path.Combine(Path.GetFullPath(cacheDirectory), "apt");
            var pool = Path.Combine(apt, distro);
            var builds = Path.Combine(apt, ".builds");
            Directory.CreateDirectory(builds);
            var view = Path.Combine(builds, Guid.NewGuid().ToString("N")[..12]);
            var lockPath = view + ".lock";
            viewLock = FileLock.Take(lockPath, exclusive: true);
            RemoveStale(builds, lockPath);
            var cache = new PackageCache(pool, view, viewLock, lockPath, log);
            cache.Seed();
            return cache;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            viewLock?.Dispose();
            log.Warning(new Diagnostic(DibCodes.PackageCacheUnavailable, $"apt's package cache is off for this build, packages are downloaded: {e.Message}"));
            return null;
        }
    }

    /// <summary>Links what is new in the view (downloads, fresh package lists) into the pool.</summary>
    public void Harvest()
    {
        if (_broken)
        {
            return;
        }

        try
        {
            var added = 0;
            foreach (var folder in Folders)
            {
                var from = Path.Combine(View, folder);
                var to = Path.Combine(_pool, folder);
                foreach (var file in new DirectoryInfo(from).EnumerateFiles())
                {
                    if (AptOwn.Contains(file.Name) || file.Name.StartsWith('.') || file.LinkTarget is not null)
                    {
                        continue;
                    }

                    var key = Path.Combine(folder, file.Name);
                    if (_known.TryGetValue(key, out var seen) && seen == (file.Length, file.LastWriteTimeUtc))
                    {
                        continue;
                    }

                    // apt dates a download by the mirror's clock: a new .deb is marked as used now (the oldest go first).
                    if (folder == "archives")
                    {
                        file.LastWriteTimeUtc = DateTime.UtcNow;
                    }

                    var temporary = Path.Combine(to, $".{file.Name}.{Path.GetFileName(View)}");
                    File.Delete(temporary);
                    if (!HardLink.TryCreate(file.FullName, temporary))
                    {
                        continue;
                    }

                    File.Move(temporary, Path.Combine(to, file.Name), overwrite: true);
                    // rename(2) between two names of one file changes nothing: the temporary name stays.
                    File.Delete(temporary);
                    file.Refresh();
                    _known[key] = (file.Length, file.LastWriteTimeUtc);
                    added++;
                }
            }

            if (added > 0)
            {
                _log.Message(LogImportance.Low, $"DiskImageBuilder: package cache: {added} new file(s) kept in {_pool}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _broken = true;
            _log.Warning(new Diagnostic(DibCodes.PackageCacheUnavailable, $"apt's downloads could not be kept in the package cache {_pool}: {e.Message}"));
        }
    }

    /// <summary>Marks the pool's files of the packages the image holds as just used (apt names them NAME_VERSION_ARCH.deb, ':' as %3a).</summary>
    public void MarkUsed(IEnumerable<(string Name, string Version, string Architecture)> packages)
    {
        var now = DateTime.UtcNow;
        foreach (var (name, version, architecture) in packages)
        {
            var file = Path.Combine(_pool, "archives", $"{name}_{version.Replace(":", "%3a", StringComparison.Ordinal)}_{architecture}.deb");
            if (File.Exists(file))
            {
                File.SetLastWriteTimeUtc(file, now);
            }
        }
    }

    /// <summary>
    /// Removes the least recently used .deb files until the pool holds at most <paramref name="maxBytes"/>.
    /// Safe while other builds run: their views hold links of their own.
    /// </summary>
    public (int Files, long Bytes) Evict(long maxBytes)
    {
        var debs = Debs().OrderBy(f => f.LastWriteTimeUtc).ToList();
        var total = debs.Sum(f => f.Length);
        var (files, bytes) = (0, 0L);
        foreach (var deb in debs)
        {
            if (total <= maxBytes)
            {
                break;
            }

            var length = deb.Length;
            try
            {
                deb.Delete();
            }
            catch (IOException)
            {
                continue;
            }

            total -= length;
            bytes += length;
            files++;
        }

        if (files > 0)
        {
            _log.Message(LogImportance.Normal, $"DiskImageBuilder: package cache: removed {files} least recently used package(s), {bytes >> 20} MiB; {total >> 20} MiB kept");
        }

        return (files, bytes);
    }

    public void Dispose()
    {
        Harvest();
        try
        {
            HostFiles.RemoveTree(View);
        }
        finally
        {
            _lock.Dispose();
            File.Delete(_lockPath);
        }
    }

    // Views of builds that are gone (killed): their lock is free.
    private static void RemoveStale(string builds, string ownLock)
    {
        foreach (var lockPath in Directory.EnumerateFiles(builds, "*.lock"))
        {
            if (lockPath == ownLock)
            {
                continue;
            }

            using var stale = FileLock.TryTake(lockPath, exclusive: true, wait: false);
            if (stale is not null)
            {
                HostFiles.RemoveTree(lockPath[..^".lock".Length]);
                File.Delete(lockPath);
            }
        }
    }

    private IEnumerable<FileInfo> Debs()
    {
        var archives = new DirectoryInfo(Path.Combine(_pool, "archives"));
        return archives.Exists ? archives.EnumerateFiles("*.deb") : [];
    }

    private void Seed()
    {
        foreach (var folder in Folders)
        {
            var from = Path.Combine(_pool, folder);
            var to = Path.Combine(View, folder);
            Directory.CreateDirectory(from);
            Directory.CreateDirectory(to);
            foreach (var file in new DirectoryInfo(from).EnumerateFiles())
            {
                if (file.Name.StartsWith('.') || AptOwn.Contains(file.Name))
                {
                    continue;
                }

                if (HardLink.TryCreate(file.FullName, Path.Combine(to, file.Name)))
                {
                    _known[Path.Combine(folder, file.Name)] = (file.Length, file.LastWriteTimeUtc);
                }
            }
        }
    }
}
