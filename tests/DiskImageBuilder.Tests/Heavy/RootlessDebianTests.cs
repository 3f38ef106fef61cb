using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>A real Debian tree (mmdebstrap from the host's mirror, apt in the image) built by an ordinary user.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class RootlessDebianTests
{
    /// <summary>What mmdebstrap makes in a root build's /dev and no user namespace may make (a booted system mounts devtmpfs there).</summary>
    private static readonly string[] DeviceNodes = ["console", "full", "null", "ptmx", "random", "tty", "urandom", "zero"];

    private static ImageProject Debian()
    {
        var p = new ImageProject("""
              <PropertyGroup><ImageFormat>tar</ImageFormat></PropertyGroup>
              <ItemGroup><Element Include="debian-minimal" /><Element Include="probe" /></ItemGroup>
            """);
        // apt in the image: its download sandbox (the _apt user) and the maintainer scripts' users and groups.
        p.Write("elements/probe/install.d/50-apt", """
            #!/bin/bash
            set -eu
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends hello
            useradd --create-home --uid 1500 builder
            install -d -o builder -g builder -m 0750 /srv/builder
            """);
        return p;
    }

    [Fact]
    public void Debian_minimal_built_by_an_ordinary_user_has_the_files_owners_and_modes_of_the_root_build_but_for_the_dev_nodes()
    {
        using var user = new TestUser(subordinateIds: true);
        using var asRoot = Debian();
        using var rootless = Debian();

        var rootRun = asRoot.Build();
        // Its own base tree (the user's cache): mmdebstrap runs in the user's namespace.
        var run = rootless.BuildAs(user);

        rootRun.Succeeded.ShouldBeTrue(rootRun.Output);
        run.Succeeded.ShouldBeTrue(run.Output);
        run.Output.ShouldNotContain("base tree from the cache");
        // Sizes left out: the root build's base tree may come from an earlier day's cache.
        var root = RootlessTests.Listing(asRoot.Extract(), sizes: false);
        var mine = RootlessTests.Listing(rootless.Extract(), sizes: false);
        mine.ShouldContain("srv/builder d 750 1500:1500 ");
        mine.ShouldContain(l => l.StartsWith("usr/bin/hello f 755 0:0", StringComparison.Ordinal));
        mine.ShouldContain(l => l.StartsWith("etc/shadow f 640 0:42", StringComparison.Ordinal));
        var nodes = root.Where(l => l.StartsWith("dev/", StringComparison.Ordinal) && l.Split(' ')[1] == "c").ToList();
        nodes.Select(l => l.Split(' ')[0][4..]).ShouldBe(DeviceNodes);
        mine.ShouldBe(root.Except(nodes));
    }
}
