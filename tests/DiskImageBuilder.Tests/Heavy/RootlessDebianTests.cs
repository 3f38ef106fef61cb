using DiskImageBuilder.Boot;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>A real Debian tree (mmdebstrap from the host's mirror, apt in the image) built by an ordinary user.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class RootlessDebianTests : IClassFixture<RootlessDebianTests.BuildUser>
{
    private readonly BuildUser _user;

    public RootlessDebianTests(BuildUser user) => _user = user;

    /// <summary>One ordinary user for the class: its image cache keeps the base tree its first build made with mmdebstrap.</summary>
    public sealed class BuildUser : IDisposable
    {
        public TestUser User { get; } = new(subordinateIds: true);

        public void Dispose() => User.Dispose();
    }

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
        using var asRoot = Debian();
        using var rootless = Debian();

        var rootRun = asRoot.Build();
        // Its own base tree (the user's cache; the class's first build runs mmdebstrap in the user's namespace).
        var run = rootless.BuildAs(_user.User);

        rootRun.Succeeded.ShouldBeTrue(rootRun.Output);
        run.Succeeded.ShouldBeTrue(run.Output);
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

    [Fact]
    public void A_debian_vm_image_built_by_an_ordinary_user_boots_with_SeaBIOS_to_a_login_prompt_with_no_failed_unit()
    {
        using var p = new ImageProject($"""
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <ImageFormat>qcow2</ImageFormat>
                <BootMode>bios</BootMode>
              </PropertyGroup>
              <ItemGroup><Element Include="debian" /><Element Include="vm" /><Element Include="boot-report" /></ItemGroup>
            """, "vm");

        var run = p.BuildAs(_user.User);

        run.Succeeded.ShouldBeTrue(run.Output);
        ImageProject.Sh($"stat -c %U '{p.OutputFile("qcow2")}'").Trim().ShouldBe(_user.User.Name);
        var boot = BootTests.Boot(p.OutputFile("qcow2"), BootOptions.SeaBios);
        BootTests.ShouldHaveBootedCleanly(boot);
        p.MountsUnderProject().ShouldBeEmpty();
    }
}
