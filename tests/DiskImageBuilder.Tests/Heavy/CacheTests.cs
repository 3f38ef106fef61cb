using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>debian-minimal's base-tree cache (DIB_IMAGE_CACHE / ImageCacheDirectory) and Offline.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class CacheTests
{
    private static ImageProject DebianMinimal(string cache, string name = "image") => new($"""
          <PropertyGroup>
            <ImageFormat>tar</ImageFormat>
            <ImageCacheDirectory>{cache}</ImageCacheDirectory>
          </PropertyGroup>
          <ItemGroup><Element Include="debian-minimal" /></ItemGroup>
        """, name);

    [Fact]
    public void Offline_without_a_cached_base_tree_fails_at_once_naming_what_is_missing()
    {
        using var cache = new TempDir();
        using var p = DebianMinimal(cache.Path);

        var run = p.Build("-p:Offline=true");

        var e = run.Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe("DIB0040");
        e.Text.ShouldContain("offline (DIB_OFFLINE), and no cached base tree for bookworm/amd64");
        e.Text.ShouldContain(cache.Path);
        run.Messages.ShouldNotContain(m => m.Contains("mmdebstrap took", StringComparison.Ordinal));
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void A_cold_build_fills_the_cache_and_an_offline_build_reuses_it_for_the_same_tree()
    {
        using var cache = new TempDir();
        using var cold = DebianMinimal(cache.Path, "cold");
        var first = cold.Build();
        first.Succeeded.ShouldBeTrue(first.Output);
        first.Messages.ShouldContain(m => m.Contains("mmdebstrap took", StringComparison.Ordinal));
        Directory.EnumerateFiles(Path.Combine(cache.Path, "debian-minimal"), "*.tar").ShouldHaveSingleItem();

        using var warm = DebianMinimal(cache.Path, "warm");
        var second = warm.Build("-p:Offline=true");
        second.Succeeded.ShouldBeTrue(second.Output);
        second.Messages.ShouldContain(m => m.Contains("base tree from the cache", StringComparison.Ordinal));
        second.Messages.ShouldNotContain(m => m.Contains("mmdebstrap took", StringComparison.Ordinal));

        // dib_environment records DIB_OFFLINE, which only the second build has.
        static string Listing(string tar) =>
            ImageProject.Sh($"tar -tvf '{tar}' --numeric-owner | awk '{{print $1, $2, $3, $6}}' | grep -v dib_environment | LC_ALL=C sort");
        Listing(warm.OutputFile()).ShouldBe(Listing(cold.OutputFile()), "owners, modes, sizes and names are the same from the cache");

        // A truncated tarball (a full disk, a killed copy) is caught by the checksum beside it,
        // reported and removed, so the next online build makes it again; offline with no package
        // cache, that is an error.
        var tarball = Directory.EnumerateFiles(Path.Combine(cache.Path, "debian-minimal"), "*.tar").ShouldHaveSingleItem();
        File.Exists(tarball + ".sha256").ShouldBeTrue();
        using (var f = new FileStream(tarball, FileMode.Open))
        {
            f.SetLength(f.Length / 2);
        }

        // Without the package cache (which could bootstrap a new base tree offline).
        warm.Environment["DIB_APT_LOCAL_CACHE"] = "0";
        var damaged = warm.Build("-p:Offline=true", "-p:DisablePhaseCache=true");
        damaged.Succeeded.ShouldBeFalse();
        damaged.Output.ShouldContain($"the cached base tree {tarball} is damaged");
        damaged.Errors.ShouldHaveSingleItem().Text.ShouldContain("no cached base tree");
        File.Exists(tarball).ShouldBeFalse();
    }

    private static ImageProject DebianWithLess(string cache, string name, string extra = "") => new($"""
          <PropertyGroup>
            <ImageFormat>tar</ImageFormat>
            <ImageCacheDirectory>{cache}</ImageCacheDirectory>
          </PropertyGroup>
          <ItemGroup>
            <Element Include="debian-minimal" />
            <Package Include="less" />
            {extra}
          </ItemGroup>
        """, name);

    /// <summary>The names in an output tar (./ dropped), sorted.</summary>
    private static List<string> Names(string tar) =>
        [.. ImageProject.Sh($"tar -tf '{tar}'").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.TrimStart('.').TrimStart('/')).Order(StringComparer.Ordinal)];

    private static void ShouldHoldNoPackageFiles(List<string> names)
    {
        names.ShouldNotContain(n => n.EndsWith(".deb", StringComparison.Ordinal));
        // apt's own lock and partial folder only: no download, no package list.
        names.Where(n => n.StartsWith("var/cache/apt/archives/", StringComparison.Ordinal) || n.StartsWith("var/lib/apt/lists/", StringComparison.Ordinal))
            .ShouldAllBe(n => n.EndsWith("/partial/", StringComparison.Ordinal) || n.EndsWith("/lock", StringComparison.Ordinal) || n.EndsWith("/archives/", StringComparison.Ordinal) || n.EndsWith("/lists/", StringComparison.Ordinal));
        names.ShouldNotContain("etc/dpkg/dpkg.cfg.d/dib-debian-minimal-unsafe-io", "force-unsafe-io is for the build only");
    }

    [Fact]
    public void Packages_are_kept_in_the_cache_never_in_the_image_and_an_offline_rebuild_without_snapshots_or_base_tree_needs_no_mirror()
    {
        using var cache = new TempDir();
        using var online = DebianWithLess(cache.Path, "online");
        var first = online.Build();
        first.Succeeded.ShouldBeTrue(first.Output);

        // mmdebstrap's Essential packages and the in-image apt's less, with the lists they came from.
        var pool = Path.Combine(cache.Path, "apt", "debian");
        var debs = Directory.EnumerateFiles(Path.Combine(pool, "archives"), "*.deb").Select(Path.GetFileName).ToList();
        debs.ShouldContain(d => d!.StartsWith("dpkg_", StringComparison.Ordinal), "mmdebstrap's downloads");
        debs.ShouldContain(d => d!.StartsWith("less_", StringComparison.Ordinal), "the in-image apt's downloads");
        Directory.EnumerateFiles(Path.Combine(pool, "lists"), "*_Packages*").ShouldNotBeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Combine(cache.Path, "apt", ".builds")).ShouldBeEmpty("each build's view of the cache is removed");
        var names = Names(online.OutputFile());
        names.ShouldContain("usr/bin/less");
        ShouldHoldNoPackageFiles(names);

        // The daily rebuild: snapshots and the base tree gone. Offline, with the mirror out of reach
        // (a proxy nobody listens on): every package and list comes from the package cache.
        Directory.Delete(Path.Combine(cache.Path, "phases"), recursive: true);
        var tarball = Directory.EnumerateFiles(Path.Combine(cache.Path, "debian-minimal"), "*.tar").ShouldHaveSingleItem();
        File.Delete(tarball);
        using var offline = DebianWithLess(cache.Path, "offline");
        offline.Environment["http_proxy"] = offline.Environment["https_proxy"] = "http://127.0.0.1:9";
        var second = offline.Build("-p:Offline=true");
        second.Succeeded.ShouldBeTrue(second.Output);
        second.Messages.ShouldContain(m => m.Contains("bootstrapping from the package cache", StringComparison.Ordinal));
        second.Messages.ShouldContain(m => m.Contains("mmdebstrap took", StringComparison.Ordinal));
        var again = Names(offline.OutputFile());
        again.Where(n => n.StartsWith("var/lib/dpkg/info/", StringComparison.Ordinal)).ShouldBe(
            names.Where(n => n.StartsWith("var/lib/dpkg/info/", StringComparison.Ordinal)), "the same packages, from the cache");
        ShouldHoldNoPackageFiles(again);

        // DIB_APT_LOCAL_CACHE=0 (DIB's switch): no package cache at all. The base tree the offline build made is given, so only apt works.
        using var noCache = new TempDir();
        Directory.CreateDirectory(Path.Combine(noCache.Path, "debian-minimal"));
        File.Copy(tarball, Path.Combine(noCache.Path, "debian-minimal", Path.GetFileName(tarball)));
        File.Copy(tarball + ".sha256", Path.Combine(noCache.Path, "debian-minimal", Path.GetFileName(tarball) + ".sha256"));
        using var off = DebianWithLess(noCache.Path, "off", """<ImageEnvironment Include="DIB_APT_LOCAL_CACHE" Value="0" />""");
        var third = off.Build();
        third.Succeeded.ShouldBeTrue(third.Output);
        third.Messages.ShouldContain(m => m.Contains("base tree from the cache", StringComparison.Ordinal));
        Directory.Exists(Path.Combine(noCache.Path, "apt")).ShouldBeFalse("DIB_APT_LOCAL_CACHE=0 keeps no package cache");
        var plain = Names(off.OutputFile());
        plain.ShouldContain("usr/bin/less");
        ShouldHoldNoPackageFiles(plain);
        off.MountsUnderProject().ShouldBeEmpty();
    }
}
