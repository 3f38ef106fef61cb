using DiskImageBuilder.Snapshots;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Phase snapshot keys: what changes them and what does not. No build, no root.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class PhaseKeyTests
{
    private static readonly string[] Steps = ["root.d", "extra-data.d", "pre-install.d", "install.d", "dib-content.d", "post-install.d", "block-device.d", "finalise.d", "cleanup.d"];

    private sealed class Hooks : IDisposable
    {
        private readonly TempDir _dir = new();

        public Hooks()
        {
            Write("root.d/10-tree", "#!/bin/sh\nmkdir -p \"$TARGET_ROOT/etc\"\n");
            Write("install.d/50-install", "#!/bin/sh\necho install\n");
            Write("post-install.d/50-post", "#!/bin/sh\necho post\n");
            Write("environment.d/10-env", "export A=1\n");
            Write("static/etc/motd", "hello\n");
            Write(".dib/package-installs/install.d", "vim\n");
        }

        public Dictionary<string, string> Environment { get; } = new()
        {
            ["DIB_RELEASE"] = "bookworm",
            ["TARGET_ROOT"] = "/work/a/root",
            ["TMP_HOOKS_PATH"] = "/work/a/hooks",
            ["DIB_IMAGE_CACHE"] = "/cache/a",
        };

        public List<string> Elements { get; } = ["base", "debian"];

        public string Write(string relative, string content) => _dir.Write(relative, content);

        public string Path(string relative) => _dir.Combine(relative);

        public IReadOnlyList<string> Keys() => Inputs().Keys();

        public BuildInputs Inputs() => BuildInputs.Compute(_dir.Path, Environment, Elements, Steps, ["engine script"]);

        public void Dispose() => _dir.Dispose();
    }

    /// <summary>Index of the first step whose key differs, or -1 when all are equal.</summary>
    private static int FirstChanged(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        for (var i = 0; i < before.Count; i++)
        {
            if (before[i] != after[i])
            {
                // A key chains the previous one: once one differs, every later one must too.
                Enumerable.Range(i, before.Count - i).ShouldAllBe(j => before[j] != after[j]);
                return i;
            }
        }

        return -1;
    }

    private static int Step(string name) => Array.IndexOf(Steps, name);

    [Fact]
    public void A_phase_script_changes_its_phase_key_and_the_later_ones_only()
    {
        using var h = new Hooks();
        var before = h.Keys();
        before.Distinct().Count().ShouldBe(Steps.Length);

        h.Write("post-install.d/50-post", "#!/bin/sh\necho post, changed\n");
        FirstChanged(before, h.Keys()).ShouldBe(Step("post-install.d"));
    }

    [Theory]
    [InlineData("root.d/10-tree", "root.d")]
    [InlineData("install.d/50-install", "install.d")]
    [InlineData("finalise.d/99-new", "finalise.d")]
    [InlineData("dib-content.d/install", "dib-content.d")]
    [InlineData(".dib/package-installs/install.d", "install.d")]
    [InlineData(".dib/package-installs/post-install.d", "post-install.d")]
    [InlineData("environment.d/10-env", "root.d")]
    [InlineData("static/etc/motd", "root.d")]
    [InlineData("bin/helper", "root.d")]
    public void Each_hooks_file_reaches_the_steps_that_can_see_it(string file, string firstChanged)
    {
        using var h = new Hooks();
        var before = h.Keys();
        h.Write(file, "#!/bin/sh\n# new content\n");
        FirstChanged(before, h.Keys()).ShouldBe(Step(firstChanged));
    }

    [Fact]
    public void The_executable_bit_of_a_script_is_an_input()
    {
        using var h = new Hooks();
        var before = h.Keys();
        File.SetUnixFileMode(h.Path("install.d/50-install"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        FirstChanged(before, h.Keys()).ShouldBe(Step("install.d"));
    }

    [Fact]
    public void The_element_set_and_every_variable_reaching_scripts_change_every_key()
    {
        using var h = new Hooks();
        var before = h.Keys();

        h.Elements.Add("vm");
        FirstChanged(before, h.Keys()).ShouldBe(0);
        h.Elements.Remove("vm");
        FirstChanged(before, h.Keys()).ShouldBe(-1);

        h.Environment["DIB_RELEASE"] = "trixie";
        FirstChanged(before, h.Keys()).ShouldBe(0);
        h.Environment["DIB_RELEASE"] = "bookworm";

        h.Environment["DIB_ROOT_LABEL"] = "cloudimg-rootfs";
        FirstChanged(before, h.Keys()).ShouldBe(0);
    }

    [Fact]
    public void Timestamps_scratch_paths_the_cache_path_and_the_offline_switch_are_not_inputs()
    {
        using var h = new Hooks();
        var before = h.Keys();

        File.SetLastWriteTimeUtc(h.Path("install.d/50-install"), DateTime.UtcNow.AddDays(-3));
        h.Environment["TARGET_ROOT"] = "/elsewhere/root";
        h.Environment["TMP_HOOKS_PATH"] = "/elsewhere/hooks";
        h.Environment["DIB_IMAGE_CACHE"] = "/other/cache";
        h.Environment["DIB_OFFLINE"] = "1";
        h.Environment["DIB_NO_TMPFS"] = "1";

        h.Keys().ShouldBe(before);
    }

    [Fact]
    public void Why_a_step_runs_names_what_changed_since_the_last_build()
    {
        using var h = new Hooks();
        var first = h.Inputs();
        first.WhyRuns(0, null).ShouldContain("no earlier build");

        h.Write("post-install.d/50-post", "#!/bin/sh\necho changed\n");
        h.Inputs().WhyRuns(Step("post-install.d"), first).ShouldBe("its inputs changed: post-install.d/50-post changed");

        h.Environment["DIB_SECRET_TOKEN"] = "s3cret";
        var third = h.Inputs();
        third.WhyRuns(0, first).ShouldContain("env DIB_SECRET_TOKEN added");
        third.ToJson().ShouldNotContain("s3cret", customMessage: "values are fingerprinted, never stored");

        third.WhyRuns(Step("install.d"), BuildInputs.FromJson(third.ToJson())).ShouldContain("no valid snapshot");
    }
}

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

/// <summary>Real busybox builds over phase snapshots. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class PhaseCacheBuildTests
{
    // Owners, modes, xattrs, hard links, a device node, a setuid file and a directory replaced
    // later: everything a snapshot must keep, changed across the layers of several phases.
    private const string RootScript = """
        #!/bin/bash
        set -eu
        echo ROOT-D-RAN
        d="$TARGET_ROOT/data"
        mkdir -p "$d/olddir" "$d/keep"
        echo one > "$d/a"; ln "$d/a" "$d/b"
        echo two > "$d/c"; ln "$d/c" "$d/keep/c2"
        mknod "$d/null" c 1 3
        echo x > "$d/setuid"; chown 1234:5678 "$d/setuid"; chmod 4755 "$d/setuid"
        echo x > "$d/attr"; setfattr -n user.snap -v yes "$d/attr"
        echo f > "$d/olddir/f"; ln -s ../a "$d/keep/link"
        """;

    private const string InstallScript = """
        #!/bin/sh
        set -eu
        echo INSTALL-D-RAN
        echo installed > /etc/installed
        echo more >> /data/c
        """;

    private static string PostScript(string version) => $"""
        #!/bin/sh
        set -eu
        echo POST-{version}
        echo {version} > /etc/version
        echo appended >> /data/a
        chmod 600 /data/c
        rm -r /data/olddir; mkdir /data/olddir; echo g > /data/olddir/g
        rm /data/null
        """;

    private static ImageProject Project(string cache, string extra = "")
    {
        var p = ImageProject.BusyboxSharingCache($"<PropertyGroup><ImageCacheDirectory>{cache}</ImageCacheDirectory>{extra}</PropertyGroup>", """<Element Include="snap" />""");
        p.Write("elements/snap/root.d/20-snap", RootScript);
        p.Write("elements/snap/install.d/50-snap", InstallScript);
        p.Write("elements/snap/post-install.d/50-snap", PostScript("v1"));
        return p;
    }

    /// <summary>Everything of a tree but timestamps: names, types, modes, owners, sizes, links, link counts, contents, devices, xattrs.</summary>
    private static string Listing(string tree) => ImageProject.Sh($$"""
        cd '{{tree}}'
        find . ! -type d -printf '%p %y %m %U %G %s %l %n\n' | LC_ALL=C sort
        find . -type d -printf '%p %m %U %G %n\n' | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        find . \( -type c -o -type b \) -exec stat -c '%n %t %T' {} + | LC_ALL=C sort
        find . ! -type l -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m - --absolute-names 2>/dev/null || true
        """);

    private static bool Ran(BuildRun run, string marker) => run.Messages.Any(m => m.EndsWith("] " + marker, StringComparison.Ordinal));

    [Fact]
    public void A_changed_post_install_script_reruns_from_post_install_and_gives_the_tree_of_a_fresh_build()
    {
        using var cache = new TempDir();
        using var p = Project(cache.Path);
        var cold = p.Build();
        cold.Succeeded.ShouldBeTrue(cold.Output);
        cold.Messages.ShouldContain("DiskImageBuilder: root.d and later phases run: no snapshot of it in the cache (no earlier build of this image recorded)");
        Ran(cold, "ROOT-D-RAN").ShouldBeTrue();

        p.Write("elements/snap/post-install.d/50-snap", PostScript("v2"));
        var warm = p.Build();

        warm.Succeeded.ShouldBeTrue(warm.Output);
        warm.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: restored root.d, extra-data.d, pre-install.d, install.d from phase snapshots", StringComparison.Ordinal));
        warm.Messages.ShouldContain("DiskImageBuilder: post-install.d and later phases run: its inputs changed: post-install.d/50-snap changed");
        Ran(warm, "ROOT-D-RAN").ShouldBeFalse();
        Ran(warm, "INSTALL-D-RAN").ShouldBeFalse();
        Ran(warm, "POST-v2").ShouldBeTrue();
        var restored = p.Extract();

        using var freshCache = new TempDir();
        using var fresh = Project(freshCache.Path, "<DisablePhaseCache>true</DisablePhaseCache>");
        fresh.Write("elements/snap/post-install.d/50-snap", PostScript("v2"));
        var plain = fresh.Build();
        plain.Succeeded.ShouldBeTrue(plain.Output);
        plain.Messages.ShouldContain("DiskImageBuilder: phase snapshots off: DisablePhaseCache is set");
        Directory.Exists(Path.Combine(freshCache.Path, "phases")).ShouldBeFalse();

        Listing(restored).ShouldBe(Listing(fresh.Extract()), "a tree restored from snapshots is the tree of a build without them");

        // The points where layering could go wrong, stated plainly.
        File.ReadAllText(Path.Combine(restored, "data/b")).ShouldBe("one\nappended\n", "a hard link changed through one name in a later layer");
        ImageProject.Sh($"stat -c '%h %a' '{restored}/data/c' '{restored}/data/keep/c2'").ShouldBe("2 600\n2 600");
        Directory.EnumerateFileSystemEntries(Path.Combine(restored, "data/olddir")).Select(Path.GetFileName).ShouldBe(["g"]);
        File.Exists(Path.Combine(restored, "data/null")).ShouldBeFalse();
        File.ReadAllText(Path.Combine(restored, "etc/version")).ShouldBe("v2\n");

        Directory.EnumerateFileSystemEntries(Path.Combine(cache.Path, "phases/staging")).ShouldBeEmpty();
        MountedAnywhere(p.Combine("obj/Debug/dib/work/root")).ShouldBeFalse();
    }

    [Fact]
    public void A_damaged_snapshot_is_reported_set_aside_and_its_phase_runs_again()
    {
        using var cache = new TempDir();
        using var p = Project(cache.Path);
        p.Build().Succeeded.ShouldBeTrue();
        var install = Directory.EnumerateDirectories(Path.Combine(cache.Path, "phases/layers"))
            .Single(d => File.ReadAllText(Path.Combine(d, "meta.json")).Contains("\"Step\": \"install.d\"", StringComparison.Ordinal));
        File.Delete(Path.Combine(install, "tree/etc/installed"));

        var run = p.Build("-t:Rebuild");

        run.Succeeded.ShouldBeTrue(run.Output);
        var w = run.Warnings.ShouldHaveSingleItem();
        w.Code.ShouldBe("DIB0061");
        w.Text.ShouldContain("snapshot after install.d");
        run.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: restored root.d, extra-data.d, pre-install.d from", StringComparison.Ordinal));
        Ran(run, "INSTALL-D-RAN").ShouldBeTrue();
        File.ReadAllText(Path.Combine(p.Extract(), "etc/installed")).ShouldBe("installed\n");
    }

    [Fact]
    public void Two_builds_at_once_share_one_cache()
    {
        using var cache = new TempDir();
        using var a = Project(cache.Path);
        using var b = Project(cache.Path);
        var runs = new[] { a, b }.AsParallel().Select(p => p.Build()).ToList();

        runs.ShouldAllBe(r => r.Succeeded);
        Listing(a.Extract()).ShouldBe(Listing(b.Extract()));
        Directory.EnumerateFileSystemEntries(Path.Combine(cache.Path, "phases/staging")).ShouldBeEmpty();
        Directory.EnumerateDirectories(Path.Combine(cache.Path, "phases/layers")).Count().ShouldBeGreaterThanOrEqualTo(8);
        a.MountsUnderProject().ShouldBeEmpty();
        b.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void ImageCacheMaxSize_evicts_least_recently_used_snapshots_after_the_build()
    {
        using var cache = new TempDir();
        using var p = Project(cache.Path, "<ImageCacheMaxSize>1K</ImageCacheMaxSize>");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        run.Messages.ShouldContain(m => m.Contains("least recently used snapshot(s)", StringComparison.Ordinal) && m.Contains("ImageCacheMaxSize 0 MiB", StringComparison.Ordinal));
        Directory.EnumerateDirectories(Path.Combine(cache.Path, "phases/layers")).ShouldBeEmpty("the busybox tree alone is larger than 1K, and its later layers cannot be used without it");
        var again = p.Build("-t:Rebuild");
        again.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: root.d and later phases run:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_build_killed_with_SIGKILL_leaves_no_mount_in_any_namespace_and_the_next_build_works()
    {
        using var cache = new TempDir();
        using var p = Project(cache.Path);
        p.Write("elements/snap/post-install.d/60-hang", "#!/bin/sh\ntouch /hanging\nsleep 600\n");
        var root = p.Combine("obj/Debug/dib/work/root");
        var sawTheMount = false;
        try
        {
            p.Run(process =>
            {
                SpinWait.SpinUntil(() => MountedAnywhere(root), TimeSpan.FromMinutes(2)).ShouldBeTrue();
                // The script is running once its file shows in the step's upper layer.
                SpinWait.SpinUntil(() => Directory.EnumerateFiles(Path.Combine(cache.Path, "phases/staging"), "hanging", SearchOption.AllDirectories).Any(), TimeSpan.FromMinutes(2))
                    .ShouldBeTrue();
                sawTheMount = MountedAnywhere(root);
                process.Kill(entireProcessTree: true);
            });
        }
        catch (Exception e) when (e is not ShouldAssertException)
        {
            // The killed build's binary log is cut short; what matters is what it left.
        }

        sawTheMount.ShouldBeTrue("the overlay is mounted while the build runs");
        SpinWait.SpinUntil(() => !MountedAnywhere(root), TimeSpan.FromSeconds(10)).ShouldBeTrue("the overlay's namespace ends with the build");

        File.Delete(p.Combine("elements/snap/post-install.d/60-hang"));
        var next = p.Build();

        next.Succeeded.ShouldBeTrue(next.Output);
        MountedAnywhere(root).ShouldBeFalse();
        Directory.EnumerateFileSystemEntries(Path.Combine(cache.Path, "phases/staging")).ShouldBeEmpty("the killed build's staging folder is cleaned up");
    }

    /// <summary>Whether any process on the host, in any mount namespace, has something mounted at <paramref name="path"/>.</summary>
    private static bool MountedAnywhere(string path)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                if (File.ReadLines(Path.Combine(dir, "mountinfo")).Any(l => l.Split(' ')[4] == path))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return false;
    }
}
