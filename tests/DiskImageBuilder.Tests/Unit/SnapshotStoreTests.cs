using DiskImageBuilder.Snapshots;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The snapshot store on its own: commit, damage detection, eviction order, leftovers of killed builds.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class SnapshotStoreTests
{
    private static Layer CommitLayer(SnapshotStore store, string key, string? parent, int bytes)
    {
        var folder = store.NewLayerFolder("staged-" + key);
        File.WriteAllBytes(Path.Combine(folder, "tree", "data"), new byte[bytes]);
        return store.Commit(key, parent, "step", folder);
    }

    [Fact]
    public void A_committed_layer_is_found_and_a_damaged_one_is_reported_and_set_aside()
    {
        using var cache = new TempDir();
        using (var store = SnapshotStore.Open(cache.Path))
        {
            var a = CommitLayer(store, "aaaa", null, 10);
            CommitLayer(store, "bbbb", "aaaa", 10);
            store.Find("aaaa", null, out var problem).ShouldBe(a);
            problem.ShouldBeNull();
            store.Find("bbbb", "other-parent", out problem).ShouldBeNull();
            problem.ShouldNotBeNull().ShouldContain("another key or parent");

            CommitLayer(store, "cccc", "aaaa", 10);
            File.WriteAllBytes(Path.Combine(cache.Path, "phases/layers/cccc/tree/data"), new byte[3]);
            store.Find("cccc", "aaaa", out problem).ShouldBeNull();
            problem.ShouldNotBeNull().ShouldContain("differ from the ones recorded");
            Directory.Exists(Path.Combine(cache.Path, "phases/layers/cccc")).ShouldBeFalse("a damaged layer is set aside");

            // Same size, same time, other content: only the content hash tells.
            CommitLayer(store, "ffff", "aaaa", 10);
            var data = Path.Combine(cache.Path, "phases/layers/ffff/tree/data");
            var time = File.GetLastWriteTimeUtc(data);
            var bytes = File.ReadAllBytes(data);
            bytes[5] ^= 0xFF;
            File.WriteAllBytes(data, bytes);
            File.SetLastWriteTimeUtc(data, time);
            store.Find("ffff", "aaaa", out problem).ShouldBeNull();
            problem.ShouldNotBeNull().ShouldContain("content of its files differs");

            CommitLayer(store, "dddd", "aaaa", 10);
            File.WriteAllText(Path.Combine(cache.Path, "phases/layers/dddd/meta.json"), "{ half writ");
            store.Find("dddd", "aaaa", out problem).ShouldBeNull();
            problem.ShouldNotBeNull().ShouldContain("meta.json");
            store.Find("eeee", "aaaa", out problem).ShouldBeNull();
            problem.ShouldBeNull();
        }

        Directory.EnumerateFileSystemEntries(Path.Combine(cache.Path, "phases/staging")).ShouldBeEmpty();
    }

    [Fact]
    public void Eviction_takes_least_recently_used_layers_first_and_never_while_another_build_holds_the_store()
    {
        using var cache = new TempDir();
        using var store = SnapshotStore.Open(cache.Path);
        var old = CommitLayer(store, "old1", null, 1000);
        var oldChild = CommitLayer(store, "old2", "old1", 1000);
        var recent = CommitLayer(store, "new1", null, 1000);
        SnapshotStore.Touch([old, oldChild]);
        Thread.Sleep(20);
        SnapshotStore.Touch([recent]);

        using (var other = SnapshotStore.Open(cache.Path))
        {
            store.Evict(1500).ShouldBeNull("another build holds the store");
        }

        var result = store.Evict(1500).ShouldNotBeNull();
        result.Layers.ShouldBe(2);
        result.Kept.ShouldBe(1000);
        Directory.EnumerateDirectories(Path.Combine(cache.Path, "phases/layers")).Select(Path.GetFileName).ShouldBe(["new1"]);
    }

    [Fact]
    public void The_staging_folder_of_a_killed_build_is_removed_by_the_next_one_and_a_live_one_is_kept()
    {
        using var cache = new TempDir();
        using var live = SnapshotStore.Open(cache.Path);
        File.WriteAllText(Path.Combine(live.Staging, "half-written"), "x");

        // A killed build: its folder and lock file remain, nobody holds the lock.
        var dead = Path.Combine(cache.Path, "phases/staging/deadbeef0000");
        Directory.CreateDirectory(Path.Combine(dead, "layer-0/tree"));
        File.WriteAllText(dead + ".lock", string.Empty);

        using (SnapshotStore.Open(cache.Path))
        {
            Directory.Exists(dead).ShouldBeFalse();
            File.Exists(Path.Combine(live.Staging, "half-written")).ShouldBeTrue();
        }
    }
}
