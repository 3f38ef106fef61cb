using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// The phase snapshots in the image cache (<c>$DIB_IMAGE_CACHE/phases</c>): one directory per key,
/// each an overlay layer (tree/) with its metadata and a last-used stamp. Layers are written in
/// this build's private staging folder and renamed into place whole, so a half-written one is never
/// seen; one whose file list no longer matches its metadata is reported and set aside.
/// Every build holds a shared lock for its whole life; eviction needs it exclusively and is skipped
/// while other builds run, so no build ever loses a layer it mounted.
/// </summary>
internal sealed class SnapshotStore : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly FileLock _shared;
    private readonly FileLock _staging;
    private readonly string _stagingLock;

    private SnapshotStore(string directory, FileLock shared, string staging, FileLock stagingLock, string stagingLockPath)
    {
        Directory = directory;
        _shared = shared;
        Staging = staging;
        _staging = stagingLock;
        _stagingLock = stagingLockPath;
    }

    public string Directory { get; }

    /// <summary>This build's scratch folder in the store (same filesystem, so commits are renames).</summary>
    public string Staging { get; }

    /// <summary>An always-empty directory: the bottom layer of every mount.</summary>
    public string Empty => Path.Combine(Directory, "empty");

    private string Layers => Path.Combine(Directory, "layers");

    public static SnapshotStore Open(string cacheDirectory)
    {
        var directory = Path.Combine(Path.GetFullPath(cacheDirectory), "phases");
        foreach (var sub in new[] { "layers", "staging", "builds", "empty" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(directory, sub));
        }

        var shared = FileLock.Take(Path.Combine(directory, "lock"), exclusive: false);
        var id = Guid.NewGuid().ToString("N")[..12];
        var staging = Path.Combine(directory, "staging", id);
        var lockPath = staging + ".lock";
        var stagingLock = FileLock.Take(lockPath, exclusive: true);
        System.IO.Directory.CreateDirectory(staging);
        var store = new SnapshotStore(directory, shared, staging, stagingLock, lockPath);
        store.RemoveStaleStaging();
        return store;
    }

    /// <summary>Whether a layer for <paramref name="key"/> is there (whole or not).</summary>
    public bool Has(string key) => System.IO.Directory.Exists(Path.Combine(Layers, key));

    /// <summary>The layer for <paramref name="key"/> if present and whole; a damaged one is set aside and described in <paramref name="problem"/>.</summary>
    public Layer? Find(string key, string? parent, out string? problem)
    {
        problem = null;
        var layer = new Layer(key, Path.Combine(Layers, key));
        if (!System.IO.Directory.Exists(layer.Directory))
        {
            return null;
        }

        problem = Check(layer, parent);
        if (problem is null)
        {
            return layer;
        }

        SetAside(layer.Directory);
        return null;
    }

    /// <summary>A fresh folder in staging for the next step's changes.</summary>
    public string NewLayerFolder(string name)
    {
        var folder = Path.Combine(Staging, name);
        System.IO.Directory.CreateDirectory(Path.Combine(folder, "tree"));
        return folder;
    }

    /// <summary>Records and renames a staged layer into place; if another build committed the same key first, theirs is kept.</summary>
    public Layer Commit(string key, string? parent, string step, string stagedFolder)
    {
        var (entries, bytes, digest, files) = Manifest(Path.Combine(stagedFolder, "tree"));
        var content = ContentDigest(Path.Combine(stagedFolder, "tree"), files);
        File.WriteAllText(Path.Combine(stagedFolder, "meta.json"), JsonSerializer.Serialize(new LayerMeta(key, parent, step, entries, bytes, digest, content), Json));
        File.WriteAllBytes(Path.Combine(stagedFolder, "used"), []);
        var target = Path.Combine(Layers, key);
        try
        {
            System.IO.Directory.Move(stagedFolder, target);
        }
        catch (IOException) when (System.IO.Directory.Exists(target))
        {
            RemoveDirectory(stagedFolder);
        }

        return new Layer(key, target);
    }

    /// <summary>Marks layers as just used (least recently used ones are evicted first).</summary>
    public static void Touch(IEnumerable<Layer> layers)
    {
        var now = DateTime.UtcNow;
        foreach (var layer in layers)
        {
            File.SetLastWriteTimeUtc(Path.Combine(layer.Directory, "used"), now);
        }
    }

    /// <summary>The last recorded inputs of a build writing <paramref name="image"/>, to say why steps run.</summary>
    public BuildInputs? PreviousInputs(string image)
    {
        var path = BuildRecord(image);
        return File.Exists(path) ? BuildInputs.FromJson(File.ReadAllText(path)) : null;
    }

    public void RecordInputs(string image, BuildInputs inputs)
    {
        var path = BuildRecord(image);
        File.WriteAllText(path + ".tmp", inputs.ToJson());
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>
    /// Removes least recently used layers (newest-built first among equals, so chains shrink from
    /// their ends) until the store is within <paramref name="maxBytes"/>. Only when no other build
    /// holds the store; returns null then, else the bytes evicted and kept.
    /// </summary>
    public (int Layers, long Evicted, long Kept)? Evict(long maxBytes)
    {
        // Another build reading the cache keeps its layers: eviction waits a moment, then leaves it
        // to a later build (a lone build under load once failed the first try).
        if (!SpinWait.SpinUntil(_shared.TryUpgrade, TimeSpan.FromSeconds(2)))
        {
            return null;
        }

        try
        {
            var layers = new List<(string Dir, LayerMeta Meta, DateTime Used)>();
            foreach (var dir in System.IO.Directory.EnumerateDirectories(Layers))
            {
                var meta = ReadMeta(dir);
                if (meta is null)
                {
                    SetAside(dir);
                    continue;
                }

                layers.Add((dir, meta, File.GetLastWriteTimeUtc(Path.Combine(dir, "used"))));
            }

            var byKey = layers.ToDictionary(l => l.Meta.Key, StringComparer.Ordinal);
            int Depth(LayerMeta meta) => meta.Parent is { } p && byKey.TryGetValue(p, out var parent) ? 1 + Depth(parent.Meta) : 0;
            var total = layers.Sum(l => l.Meta.Bytes);
            var evicted = 0L;
            var count = 0;
            foreach (var layer in layers.OrderBy(l => l.Used).ThenByDescending(l => Depth(l.Meta)))
            {
                if (total <= maxBytes)
                {
                    break;
                }

                SetAside(layer.Dir);
                byKey.Remove(layer.Meta.Key);
                total -= layer.Meta.Bytes;
                evicted += layer.Meta.Bytes;
                count++;
            }

            // A layer whose parent is gone can never be restored again.
            bool Orphan(LayerMeta meta) => meta.Parent is { } p && !byKey.ContainsKey(p);
            while (byKey.Values.FirstOrDefault(l => Orphan(l.Meta)) is { Dir: not null } orphan)
            {
                SetAside(orphan.Dir);
                byKey.Remove(orphan.Meta.Key);
                total -= orphan.Meta.Bytes;
                evicted += orphan.Meta.Bytes;
                count++;
            }

            return (count, evicted, total);
        }
        finally
        {
            _shared.Downgrade();
        }
    }

    public void Dispose()
    {
        RemoveDirectory(Staging);
        _staging.Dispose();
        File.Delete(_stagingLock);
        _shared.Dispose();
    }

    private string BuildRecord(string image) => Path.Combine(Directory, "builds", Fingerprint.Of(image) + ".json");

    private static string? Check(Layer layer, string? parent)
    {
        var meta = ReadMeta(layer.Directory);
        if (meta is null)
        {
            return "its meta.json is missing or unreadable";
        }

        if (meta.Key != layer.Key || meta.Parent != parent)
        {
            return "its meta.json names another key or parent";
        }

        if (!System.IO.Directory.Exists(layer.Tree))
        {
            return "its tree is missing";
        }

        var (entries, bytes, digest, files) = Manifest(layer.Tree);
        if (digest != meta.Digest)
        {
            return $"its files differ from the ones recorded ({entries} entries, {bytes} bytes; recorded {meta.Entries}, {meta.Bytes})";
        }

        if (meta.Content is null)
        {
            return "it was recorded without a hash of its files' content";
        }

        return ContentDigest(layer.Tree, files) == meta.Content
            ? null
            : "the content of its files differs from the hash recorded (a file was changed in place)";
    }

    /// <summary>
    /// SHA-256 over every regular file's name and the SHA-256 of its content, in name order; the
    /// files are read on every core (with the CPU's SHA instructions the disk or page cache is the
    /// limit). What the file list's digest cannot see: a file changed without a change of size.
    /// </summary>
    internal static string ContentDigest(string tree, IReadOnlyList<string> files)
    {
        var hashes = new byte[files.Count][];
        var next = -1;
        DedicatedThreads.ForEach(Math.Min(Environment.ProcessorCount, Math.Max(1, files.Count)), _ =>
        {
            var buffer = new byte[1 << 20];
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (var i = Interlocked.Increment(ref next); i < files.Count; i = Interlocked.Increment(ref next))
            {
                using var handle = File.OpenHandle(Path.Combine(tree, files[i]), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
                long offset = 0;
                for (int n; (n = RandomAccess.Read(handle, buffer, offset)) > 0; offset += n)
                {
                    hash.AppendData(buffer, 0, n);
                }

                hashes[i] = hash.GetHashAndReset();
            }
        });

        using var all = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < files.Count; i++)
        {
            all.AppendData(Encoding.UTF8.GetBytes(files[i] + "\0"));
            all.AppendData(hashes[i]);
        }

        return Convert.ToHexStringLower(all.GetHashAndReset());
    }

    private static LayerMeta? ReadMeta(string directory)
    {
        try
        {
            return JsonSerializer.Deserialize<LayerMeta>(File.ReadAllText(Path.Combine(directory, "meta.json")), Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every entry's path, type, mode, owner, size and link target (find -printf): a cheap fingerprint of a layer.</summary>
    private static (long Entries, long Bytes, string Digest, IReadOnlyList<string> Files) Manifest(string tree)
    {
        var lines = new List<string>();
        ProcessRunner.RunChecked(
            new ProcessSpec("find", [tree, "-mindepth", "1", "-printf", "%P\\t%y\\t%m\\t%U\\t%G\\t%s\\t%l\\n"]),
            lines.Add,
            CancellationToken.None);
        lines.Sort(StringComparer.Ordinal);
        var regular = lines.Select(l => l.Split('\t')).Where(f => f.Length > 5 && f[1] == "f").ToList();
        var bytes = regular.Sum(f => long.Parse(f[5], CultureInfo.InvariantCulture));
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
        return (lines.Count, bytes, digest, [.. regular.Select(f => f[0])]);
    }

    // A rename out of layers/ first: no other build can find a layer while it is being deleted.
    private void SetAside(string layerDirectory)
    {
        var trash = Path.Combine(Staging, "trash-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            System.IO.Directory.Move(layerDirectory, trash);
        }
        catch (IOException)
        {
            return;
        }

        RemoveDirectory(trash);
    }

    // Staging folders whose build is gone (killed): their lock is free.
    private void RemoveStaleStaging()
    {
        foreach (var lockPath in System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "staging"), "*.lock"))
        {
            if (lockPath == _stagingLock)
            {
                continue;
            }

            using var stale = FileLock.TryTake(lockPath, exclusive: true, wait: false);
            if (stale is not null)
            {
                RemoveDirectory(lockPath[..^".lock".Length]);
                File.Delete(lockPath);
            }
        }
    }

    private static void RemoveDirectory(string directory) => HostFiles.RemoveTree(directory);
}
