using System.Collections.Concurrent;
using System.Diagnostics;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// Runs a build's steps over phase snapshots. The tree is an overlay of committed layers; the
/// newest chain of layers whose keys still match is restored (mounted, not copied), the remaining
/// steps run, and each one's changes are committed as a new layer under its key. Anything that
/// stops the cache from working (no overlay support, an odd cache path) is a warning, never a
/// failed build: the build then runs every step on a plain directory.
/// </summary>
internal sealed class PhaseCache : IDisposable
{
    /// <summary>ImageCacheMaxSize when unset.</summary>
    public const long DefaultMaxBytes = 20L << 30;

    private readonly SnapshotStore _store;
    private readonly OverlayRoot _overlay;
    private readonly BuildInputs _inputs;
    private readonly IReadOnlyList<string> _keys;
    private readonly string _image;
    private readonly long _maxBytes;
    private readonly IBuildLog _log;
    private readonly string _hooksRoot;
    private readonly List<Layer> _chain = [];
    private Dictionary<string, string> _hooksBefore;
    private Dictionary<string, string> _besideBefore;
    private string _upper = string.Empty;
    private int _mounts;

    // The namespace's tmpfs where each step's changes are written (null: straight to the staging folder).
    private string? _memory;

    // The trees the next overlay is mounted on, oldest first: restored layers, then this build's steps.
    private readonly List<string> _lowers = [];
    private Task _persisting = Task.CompletedTask;
    private Exception? _persistFailure;

    // What the saves report, logged by the build's own thread (the log is not for other threads).
    private readonly ConcurrentQueue<string> _saved = new();

    private PhaseCache(SnapshotStore store, string root, string hooksRoot, BuildInputs inputs, string image, long maxBytes, IBuildLog log)
    {
        _store = store;
        _hooksRoot = hooksRoot;
        _hooksBefore = HooksCopy.Fingerprint(hooksRoot);
        _besideBefore = BesideImageCopy.Fingerprint(image);
        _overlay = new OverlayRoot(root);
        _inputs = inputs;
        _keys = inputs.Keys();
        _image = image;
        _maxBytes = maxBytes;
        _log = log;
    }

    /// <summary>How many steps, from the first, the restored tree already holds.</summary>
    public int Restored => _chain.Count;

    /// <summary>Where the engine itself reads and writes the tree (see <see cref="OverlayRoot.HostView"/>).</summary>
    public string TreeView => _overlay.HostView;

    /// <summary>The prefix that runs a script where the tree is mounted.</summary>
    public IReadOnlyList<string> Enter => _overlay.Enter;

    /// <param name="image">Identifies the image across builds (its output path), to say what changed since its last build.</param>
    /// <param name="hooksRoot">The hooks tree: a step that changes it (install-types links scripts into install.d) keeps a copy in its snapshot.</param>
    /// <param name="inMemory">
    /// Each step writes its changes in RAM (a tmpfs), as DIB builds in tmpfs, and they are copied to
    /// the store after it: dpkg's thousands of small files go about a fifth faster there than on ext4.
    /// </param>
    public static PhaseCache? Open(string cacheDirectory, string root, string hooksRoot, BuildInputs inputs, string image, long maxBytes, bool inMemory, IBuildLog log)
    {
        SnapshotStore? store = null;
        PhaseCache? cache = null;
        try
        {
            store = SnapshotStore.Open(cacheDirectory);
            cache = new PhaseCache(store, root, hooksRoot, inputs, image, maxBytes, log);
            if (inMemory)
            {
                var memory = Path.Combine(store.Staging, "memory");
                cache._memory = cache._overlay.MountMemory(memory) ? memory : null;
                log.Message(LogImportance.Normal, cache._memory is null
                    ? "DiskImageBuilder: the tree is built on disk: its tmpfs appeared in the host's mount table"
                    : "DiskImageBuilder: each phase writes its changes in RAM (tmpfs), kept on disk after it (DIB_NO_TMPFS=1: on disk)");
            }

            cache.Restore();
            return cache;
        }
        catch (Exception e) when (e is DibException or IOException or UnauthorizedAccessException)
        {
            cache?._overlay.Dispose();
            store?.Dispose();
            var reason = e is DibException dib ? string.Join(" ", dib.Diagnostics.Select(d => d.Message)) : e.Message;
            log.Warning(new Diagnostic(DibCodes.PhaseCacheUnavailable, $"Phase snapshots are off for this build, every phase runs: {reason}"));
            return null;
        }
    }

    /// <summary>Commits the changes of step <paramref name="index"/> as its snapshot and starts a fresh layer for the next.</summary>
    public void AfterStep(int index)
    {
        var clock = Stopwatch.StartNew();
        var upper = _upper;
        var upperTree = _overlay.Outside(Path.Combine(upper, "tree"));
        var key = _keys[index];
        var parent = index == 0 ? null : _keys[index - 1];
        var step = _inputs.Steps[index].Name;
        var hooksAfter = HooksCopy.Fingerprint(_hooksRoot);
        var besideAfter = BesideImageCopy.Fingerprint(_image);

        // Nothing changed in the tree (a phase without scripts): an empty layer, and the mount stays as it is.
        var changed = Directory.EnumerateFileSystemEntries(upperTree).Any();
        string staged;
        if (!changed)
        {
            staged = _store.NewLayerFolder($"empty-{index}");
        }
        else
        {
            _overlay.KeepHardLinks(upperTree);
            _overlay.Unmount();
            staged = _memory is null ? upper : _store.NewLayerFolder($"kept-{index}");
        }

        HooksCopy.Save(_hooksRoot, _hooksBefore, hooksAfter, staged);
        BesideImageCopy.Save(_image, _besideBefore, besideAfter, staged);
        _hooksBefore = hooksAfter;
        _besideBefore = besideAfter;

        var inMemory = changed && _memory is not null ? Path.Combine(upper, "tree") : null;
        if (inMemory is not null)
        {
            // The next steps build on the copy in RAM while it is saved.
            _lowers.Add(inMemory);
        }

        Persist(() =>
        {
            if (inMemory is not null)
            {
                // Owners, modes, times, xattrs (the overlay's whiteouts, file capabilities) and hard links.
                Directory.Delete(Path.Combine(staged, "tree"));
                _overlay.InNamespace("cp", "-a", "--", inMemory, Path.Combine(staged, "tree"));
            }

            var layer = _store.Commit(key, parent, step, staged);
            _chain.Add(layer);
            if (changed && _memory is null)
            {
                _lowers.Add(layer.Tree);
            }

            SnapshotStore.Touch([layer]);
            _saved.Enqueue($"DiskImageBuilder: snapshot of {step} saved as {layer.Directory} ({clock.Elapsed.TotalSeconds:0.00} s after the step)");
        });

        if (changed)
        {
            MountNext();
        }

        ReportSaved();
    }

    /// <summary>Logs what the saves finished so far reported, on the build's own thread.</summary>
    private void ReportSaved()
    {
        while (_saved.TryDequeue(out var saved))
        {
            _log.Message(LogImportance.Low, saved);
        }
    }

    /// <summary>
    /// Saves a snapshot: at once when the tree is on disk; from RAM, on a thread of its own, one
    /// after the other, while the next steps run. A snapshot that cannot be saved is a warning at the
    /// end (that step runs again next time), never a failed build.
    /// </summary>
    private void Persist(Action save)
    {
        if (_memory is null)
        {
            save();
            return;
        }

        var previous = _persisting;
        _persisting = Task.Run(() =>
        {
            previous.Wait();
            if (_persistFailure is not null)
            {
                return;
            }

            try
            {
                save();
            }
            catch (Exception e)
            {
                // Whatever it is, it is reported once the build's own thread waits for the saves
                // (Dispose): a fault left in the task would instead escape from Dispose.
                _persistFailure = e;
            }
        });
    }

    /// <summary>Bytes the snapshots hold after <see cref="Dispose"/> evicted (0 when another build held the store).</summary>
    public long KeptBytes { get; private set; }

    public void Dispose()
    {
        // The copies in RAM vanish with the namespace: the snapshots still being saved come first.
        _persisting.Wait();
        ReportSaved();

        if (_persistFailure is { } failure)
        {
            var reason = failure is DibException dib ? string.Join(" ", dib.Diagnostics.Select(d => d.Message)) : failure.Message;
            _log.Warning(new Diagnostic(DibCodes.PhaseCacheUnavailable, $"A phase snapshot could not be saved from RAM, so that phase runs again next time: {reason}"));
        }

        _overlay.Dispose();

        // One stamp for the whole chain: eviction then takes a chain's newest layers first.
        SnapshotStore.Touch(_chain);
        _store.RecordInputs(_image, _inputs);
        var evicted = _store.Evict(_maxBytes);
        KeptBytes = evicted?.Kept ?? 0;
        if (evicted is { Layers: > 0 } e)
        {
            _log.Message(LogImportance.Normal, $"DiskImageBuilder: phase cache: evicted {e.Layers} least recently used snapshot(s), {e.Evicted >> 20} MiB; {e.Kept >> 20} MiB kept (ImageCacheMaxSize {_maxBytes >> 20} MiB)");
        }

        _store.Dispose();
    }

    private void Restore()
    {
        var clock = Stopwatch.StartNew();

        // Each layer's file list is checked, on every core: the big ones (install.d) take a while.
        var candidates = _keys.TakeWhile(k => _store.Has(k)).Count();
        var found = new (Layer? Layer, string? Problem)[candidates];
        DedicatedThreads.ForEach(candidates, i =>
        {
            var layer = _store.Find(_keys[i], i == 0 ? null : _keys[i - 1], out var problem);
            found[i] = (layer, problem);
        });

        for (var i = 0; i < candidates; i++)
        {
            if (found[i].Problem is { } problem)
            {
                _log.Warning(new Diagnostic(
                    DibCodes.SnapshotInvalid,
                    $"The snapshot after {_inputs.Steps[i].Name} in {_store.Directory} is damaged ({problem}); it was set aside and the step runs again."));
            }
        }

        _chain.AddRange(found.TakeWhile(f => f.Layer is not null).Select(f => f.Layer!));
        _lowers.AddRange(_chain.Select(l => l.Tree));

        // What the restored steps changed in the hooks tree (scripts they linked into later phases).
        foreach (var layer in _chain)
        {
            HooksCopy.Apply(layer.Directory, _hooksRoot);
            BesideImageCopy.Apply(layer.Directory, _image);
        }

        _hooksBefore = HooksCopy.Fingerprint(_hooksRoot);
        _besideBefore = BesideImageCopy.Fingerprint(_image);

        SnapshotStore.Touch(_chain);
        MountNext();
        var steps = _inputs.Steps.Select(s => s.Name).ToList();
        if (Restored > 0)
        {
            _log.Message(LogImportance.High, $"DiskImageBuilder: restored {string.Join(", ", steps.Take(Restored))} from phase snapshots ({clock.Elapsed.TotalSeconds:0.00} s)");
        }

        _log.Message(LogImportance.High, Restored == steps.Count
            ? "DiskImageBuilder: every phase restored; only the outputs are written"
            : $"DiskImageBuilder: {steps[Restored]}{(Restored < steps.Count - 1 ? " and later phases" : string.Empty)} run: {_inputs.WhyRuns(Restored, _store.PreviousInputs(_image))}");
    }

    private void MountNext()
    {
        var scratch = _memory ?? _store.Staging;
        _upper = _memory is null ? _store.NewLayerFolder($"layer-{_mounts}") : Path.Combine(_memory, $"layer-{_mounts}");
        var lowers = _lowers.AsEnumerable().Reverse().Where(t => Directory.EnumerateFileSystemEntries(_overlay.Outside(t)).Any()).Append(_store.Empty).ToList();
        _overlay.Mount(lowers, Path.Combine(_upper, "tree"), Path.Combine(scratch, $"work-{_mounts}"));
        _mounts++;
    }
}
