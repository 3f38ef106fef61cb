using DiskImageBuilder.Snapshots;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

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
        var sawMemory = false;
        try
        {
            p.Run(process =>
            {
                SpinWait.SpinUntil(() => MountedAnywhere(root), TimeSpan.FromMinutes(2)).ShouldBeTrue();
                // The script is running once its file shows in the tree (seen from inside the build's namespace).
                SpinWait.SpinUntil(() => MountedBy(root) is { } holder && File.Exists($"{holder}/root{root}/hanging"), TimeSpan.FromMinutes(2))
                    .ShouldBeTrue();
                sawTheMount = MountedAnywhere(root);
                sawMemory = Directory.EnumerateDirectories(Path.Combine(cache.Path, "phases/staging")).Any(d => MountedAnywhere(Path.Combine(d, "memory")));
                process.Kill(entireProcessTree: true);
            });
        }
        catch (Exception e) when (e is not ShouldAssertException)
        {
            // The killed build's binary log is cut short; what matters is what it left.
        }

        sawTheMount.ShouldBeTrue("the overlay is mounted while the build runs");
        sawMemory.ShouldBeTrue("the step's changes are written in the namespace's tmpfs");
        SpinWait.SpinUntil(() => !MountedAnywhere(root), TimeSpan.FromSeconds(10)).ShouldBeTrue("the overlay's namespace ends with the build");
        Directory.EnumerateDirectories(Path.Combine(cache.Path, "phases/staging")).Any(d => MountedAnywhere(Path.Combine(d, "memory")))
            .ShouldBeFalse("the tmpfs ends with the namespace");

        File.Delete(p.Combine("elements/snap/post-install.d/60-hang"));
        var next = p.Build();

        next.Succeeded.ShouldBeTrue(next.Output);
        MountedAnywhere(root).ShouldBeFalse();
        Directory.EnumerateFileSystemEntries(Path.Combine(cache.Path, "phases/staging")).ShouldBeEmpty("the killed build's staging folder is cleaned up");
    }

    /// <summary>Whether any process on the host, in any mount namespace, has something mounted at <paramref name="path"/>.</summary>
    private static bool MountedAnywhere(string path) => MountedBy(path) is not null;

    /// <summary>The /proc folder of a process, in any mount namespace, that has something mounted at <paramref name="path"/>.</summary>
    private static string? MountedBy(string path)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                if (File.ReadLines(Path.Combine(dir, "mountinfo")).Any(l => l.Split(' ')[4] == path))
                {
                    return dir;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return null;
    }
}
