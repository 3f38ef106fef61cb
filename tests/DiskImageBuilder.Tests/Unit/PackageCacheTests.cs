using DiskImageBuilder.Snapshots;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>apt's package cache on its own: per-build views, what reaches the pool, eviction, leftovers of killed builds.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class PackageCacheTests
{
    private static readonly Dictionary<string, string> Debian = new() { ["DISTRO_NAME"] = "debian" };

    [Fact]
    public void Downloads_in_one_build_s_view_reach_the_pool_and_the_next_build_s_view_but_apt_s_own_files_stay_private()
    {
        using var cache = new TempDir();
        var pool = cache.Combine("apt", "debian");
        using (var first = PackageCache.Open(cache.Path, Debian, new RecordingLog()).ShouldNotBeNull())
        using (var running = PackageCache.Open(cache.Path, Debian, new RecordingLog()).ShouldNotBeNull())
        {
            first.View.ShouldNotBe(running.View, "builds at once never share apt's lock or partial downloads");
            File.WriteAllText(Path.Combine(first.View, "archives", "less_590-2_amd64.deb"), "deb");
            File.WriteAllText(Path.Combine(first.View, "archives", "lock"), "");
            Directory.CreateDirectory(Path.Combine(first.View, "archives", "partial"));
            File.WriteAllText(Path.Combine(first.View, "archives", "partial", "half.deb"), "de");
            File.WriteAllText(Path.Combine(first.View, "lists", "mirror_dists_bookworm_main_binary-amd64_Packages"), "v1");
            first.Harvest();

            File.ReadAllText(Path.Combine(pool, "archives", "less_590-2_amd64.deb")).ShouldBe("deb");
            File.Exists(Path.Combine(pool, "archives", "lock")).ShouldBeFalse();
            Directory.Exists(Path.Combine(pool, "archives", "partial")).ShouldBeFalse();
            Directory.EnumerateFiles(pool, ".*", SearchOption.AllDirectories).ShouldBeEmpty("no temporary name is left");

            // A fresher package list (apt replaces the file) replaces the pool's.
            var list = Path.Combine(first.View, "lists", "mirror_dists_bookworm_main_binary-amd64_Packages");
            File.Delete(list);
            File.WriteAllText(list, "v2, longer");
            first.Harvest();
            File.ReadAllText(Path.Combine(pool, "lists", "mirror_dists_bookworm_main_binary-amd64_Packages")).ShouldBe("v2, longer");
            // apt-get clean in one image empties its view only.
            File.Delete(Path.Combine(first.View, "archives", "less_590-2_amd64.deb"));
            first.Harvest();
            File.Exists(Path.Combine(pool, "archives", "less_590-2_amd64.deb")).ShouldBeTrue();
        }

        Directory.EnumerateFileSystemEntries(cache.Combine("apt", ".builds")).ShouldBeEmpty("views go with their build");
        using var next = PackageCache.Open(cache.Path, Debian, new RecordingLog()).ShouldNotBeNull();
        File.ReadAllText(Path.Combine(next.View, "archives", "less_590-2_amd64.deb")).ShouldBe("deb");
        File.ReadAllText(Path.Combine(next.View, "lists", "mirror_dists_bookworm_main_binary-amd64_Packages")).ShouldBe("v2, longer");
    }

    [Fact]
    public void Builds_at_once_that_download_the_same_packages_leave_one_whole_copy_of_each()
    {
        using var cache = new TempDir();
        var names = Enumerable.Range(0, 60).Select(i => $"pkg{i}_1.0-{i}_amd64.deb").ToList();
        var logs = Enumerable.Range(0, 4).Select(_ => new RecordingLog()).ToList();
        var builds = logs.Select(log => PackageCache.Open(cache.Path, Debian, log).ShouldNotBeNull()).ToList();
        try
        {
            // Each build downloads every package itself (its own file, same bytes, as apt would) and
            // harvests while the others do: link-and-rename into the pool, never a partial file.
            Parallel.ForEach(builds, new ParallelOptions { MaxDegreeOfParallelism = builds.Count }, build =>
            {
                foreach (var name in names)
                {
                    File.WriteAllBytes(Path.Combine(build.View, "archives", name), Content(name));
                    build.Harvest();
                }
            });
        }
        finally
        {
            builds.ForEach(b => b.Dispose());
        }

        // A clash between two builds' temporary names, or a rename that lost a race, is warning DIB0600.
        logs.SelectMany(l => l.Warnings).ShouldBeEmpty();
        var pool = cache.Combine("apt", "debian", "archives");
        Directory.EnumerateFiles(pool).Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(names.Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            File.ReadAllBytes(Path.Combine(pool, name)).ShouldBe(Content(name), name);
        }

        Directory.EnumerateFiles(cache.Combine("apt"), ".*", SearchOption.AllDirectories).ShouldBeEmpty("no temporary name is left");
        Directory.EnumerateFileSystemEntries(cache.Combine("apt", ".builds")).ShouldBeEmpty("views go with their build");
        using var next = PackageCache.Open(cache.Path, Debian, new RecordingLog()).ShouldNotBeNull();
        Directory.EnumerateFiles(Path.Combine(next.View, "archives"), "*.deb").Count().ShouldBe(names.Count);

        static byte[] Content(string name) => [.. Enumerable.Range(0, 4096).Select(i => (byte)(name.GetHashCode(StringComparison.Ordinal) + i))];
    }

    [Fact]
    public void The_least_recently_used_packages_go_first_when_the_pool_is_over_its_share()
    {
        using var cache = new TempDir();
        using var packages = PackageCache.Open(cache.Path, Debian, new RecordingLog()).ShouldNotBeNull();
        var archives = cache.Combine("apt", "debian", "archives");
        foreach (var (name, daysAgo) in new[] { ("old_1_amd64.deb", 30), ("used_1%3a2_amd64.deb", 40), ("new_1_amd64.deb", 1) })
        {
            File.WriteAllBytes(Path.Combine(archives, name), new byte[1000]);
            File.SetLastWriteTimeUtc(Path.Combine(archives, name), DateTime.UtcNow.AddDays(-daysAgo));
        }

        // The image holds used 1:2: its file counts as used now, whatever its age.
        packages.MarkUsed([("used", "1:2", "amd64")]);
        packages.PoolBytes.ShouldBe(3000);
        packages.Evict(2500).ShouldBe((1, 1000L));
        Directory.EnumerateFiles(archives).Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(["new_1_amd64.deb", "used_1%3a2_amd64.deb"]);
    }

    [Fact]
    public void DIB_APT_LOCAL_CACHE_0_or_no_distro_is_no_cache_and_a_cache_that_cannot_be_written_is_warning_DIB0600()
    {
        using var cache = new TempDir();
        PackageCache.Open(cache.Path, new Dictionary<string, string>(Debian) { ["DIB_APT_LOCAL_CACHE"] = "0" }, new RecordingLog()).ShouldBeNull();
        PackageCache.Open(cache.Path, new Dictionary<string, string>(), new RecordingLog()).ShouldBeNull();
        Directory.Exists(cache.Combine("apt")).ShouldBeFalse();

        var notADirectory = cache.Write("file", "a file where the cache should be", executable: false);
        var log = new RecordingLog();
        PackageCache.Open(notADirectory, Debian, log).ShouldBeNull();
        log.Warnings.ShouldHaveSingleItem().Code.ShouldBe("DIB0600");
    }

    [Fact]
    public void The_view_of_a_killed_build_is_removed_by_the_next_one()
    {
        using var cache = new TempDir();
        var stale = cache.Combine("apt", ".builds", "deadbeef0000");
        Directory.CreateDirectory(Path.Combine(stale, "archives"));
        File.WriteAllText(stale + ".lock", "");
        using var packages = PackageCache.Open(cache.Path, Debian, new RecordingLog()).ShouldNotBeNull();
        Directory.Exists(stale).ShouldBeFalse();
        File.Exists(stale + ".lock").ShouldBeFalse();
    }
}
