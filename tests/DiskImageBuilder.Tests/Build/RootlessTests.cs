using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// `dotnet build` as an ordinary user (made by the test, with a range of subordinate IDs): the build
/// runs in a user namespace and its image has the files, owners and modes a root build's has.
/// Needs root to make the user.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class RootlessTests : IClassFixture<RootlessTests.BuildUser>
{
    private readonly BuildUser _user;

    public RootlessTests(BuildUser user) => _user = user;

    /// <summary>The ordinary user of this class's builds, with subordinate IDs; removed after the class.</summary>
    public sealed class BuildUser : IDisposable
    {
        public TestUser User { get; } = new(subordinateIds: true);

        public void Dispose() => User.Dispose();
    }

    /// <summary>
    /// Files of many owners, modes and kinds, made where a root build needs root: chown, setuid,
    /// a fifo, a hard link, a file of an earlier phase deleted (a whiteout in the phase snapshot); and
    /// the image's /dev, /proc and /sys checked from inside.
    /// </summary>
    private static ImageProject Owners()
    {
        var p = ImageProject.Busybox(elements: """<Element Include="owners" />""");
        p.Write("elements/owners/install.d/50-owners", """
            #!/bin/sh
            set -eu
            [ "$(id -u)" = 0 ]
            echo ok > /dev/null
            [ -c /dev/null ] && [ -c /dev/urandom ] && head -c 4 /dev/urandom > /dev/null
            [ -r /proc/self/status ] && [ -d /sys/kernel ]
            mkdir -p /srv/data /home/dev /var/spool/app
            echo data > /srv/data/file
            ln /srv/data/file /srv/data/hardlink
            ln -s ../data/file /srv/data/symlink
            mkfifo -m 0620 /var/spool/app/pipe
            chown 0:5 /var/spool/app/pipe
            chown -R 1000:1000 /home/dev
            chmod 0700 /home/dev
            chown 65534:65534 /srv/data/file
            chmod 4755 /srv/data/file
            chown 100:65533 /var/spool/app
            chmod 2775 /var/spool/app
            rm /etc/os-release
            """);
        p.Write("elements/owners/finalise.d/50-check", "#!/bin/sh\nset -eu\n[ \"$(stat -c %u:%g:%a /home/dev)\" = 1000:1000:700 ]\n");
        return p;
    }

    /// <summary>Every entry of an extracted image: path, type, mode, owner, group, size (unless not wanted), link target.</summary>
    internal static string[] Listing(string tree, bool sizes = true) =>
        ImageProject.Sh($"cd '{tree}' && find . -mindepth 1 -printf '%P %y %m %U:%G {(sizes ? "%s " : string.Empty)}%l\\n' | LC_ALL=C sort").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void A_busybox_tree_built_by_an_ordinary_user_has_the_files_owners_and_modes_of_the_root_build_and_its_phase_snapshots_restore()
    {
        using var asRoot = Owners();
        using var rootless = Owners();

        var rootRun = asRoot.Build();
        var run = rootless.BuildAs(_user.User);

        rootRun.Succeeded.ShouldBeTrue(rootRun.Output);
        run.Succeeded.ShouldBeTrue(run.Output);
        run.Warnings.ShouldBeEmpty();
        var mine = Listing(rootless.Extract());
        mine.ShouldContain("home/dev d 700 1000:1000 4096 ");
        mine.ShouldContain("srv/data/file f 4755 65534:65534 5 ");
        mine.ShouldContain("var/spool/app d 2775 100:65533 4096 ");
        mine.ShouldContain("var/spool/app/pipe p 620 0:5 0 ");
        mine.ShouldNotContain(l => l.StartsWith("etc/os-release ", StringComparison.Ordinal));
        mine.ShouldBe(Listing(asRoot.Extract()));
        ImageProject.Sh($"tar -tv --numeric-owner -f '{rootless.OutputFile()}' ./srv/data/hardlink").ShouldContain("link to ./srv/data/file");

        // The outputs and the project's folder belong to the user; nothing of the build is left running or mounted.
        ImageProject.Sh($"stat -c %U '{rootless.OutputFile()}'").Trim().ShouldBe(_user.User.Name);
        ImageProject.Sh($"ps -u '{_user.User.Name}' -o pid= || true").Trim().ShouldBeEmpty();
        rootless.MountsUnderProject().ShouldBeEmpty();

        // A later phase changed: the earlier ones come back from the snapshots the user's build made, whole.
        rootless.Write("elements/owners/finalise.d/50-check", "#!/bin/sh\nset -eu\n[ \"$(stat -c %u:%g:%a /srv/data/file)\" = 65534:65534:4755 ]\n");
        var again = rootless.BuildAs(_user.User, "-v:n");

        again.Succeeded.ShouldBeTrue(again.Output);
        again.Warnings.ShouldBeEmpty("no snapshot may be found damaged");
        again.Output.ShouldContain("restored root.d, extra-data.d, pre-install.d, install.d, post-install.d, block-device.d from phase snapshots");
        Listing(rootless.Extract()).ShouldBe(mine);
    }

    [Fact]
    public void Disk_image_create_run_by_an_ordinary_user_builds_the_image_with_roots_owners()
    {
        using var dir = new TempDir();
        var user = _user.User;
        ImageProject.Sh($"chown '{user.Name}:' '{dir.Path}'");
        var cli = Path.Combine(AppContext.BaseDirectory, "DiskImageBuilder.Cli.dll");

        var output = ImageProject.Sh(
            $"cd '{dir.Path}' && runuser -u '{user.Name}' -- env HOME='{user.Home}' DOTNET_CLI_HOME='{user.Home}' DOTNET_NOLOGO=1 "
            + $"ELEMENTS_PATH='{Repo.TestElements}' DIB_IMAGE_CACHE='{dir.Combine("cache")}' dotnet '{cli}' -n -t tar -o '{dir.Combine("bb")}' busybox-tree 2>&1");

        output.ShouldContain($"Image file {dir.Combine("bb.tar")} created.");
        ImageProject.Sh($"stat -c %U '{dir.Combine("bb.tar")}'").Trim().ShouldBe(user.Name);
        var listing = ImageProject.Sh($"tar -tv --numeric-owner -f '{dir.Combine("bb.tar")}' ./bin/busybox ./tmp/");
        listing.ShouldContain("-rwxr-xr-x 0/0");
        listing.ShouldContain("drwxrwxrwt 0/0");
    }

    [Fact]
    public void Without_subordinate_ids_the_build_stops_with_DIB0700_saying_how_to_add_them()
    {
        using var user = new TestUser(subordinateIds: false);
        using var p = ImageProject.Busybox();

        var run = p.BuildAs(user);

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0700");
        error.Text.ShouldContain($"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user.Name}");
        File.Exists(p.OutputFile()).ShouldBeFalse();
    }

    [Fact]
    public void When_the_host_refuses_the_user_namespace_the_build_stops_with_DIB0701_naming_the_refusal()
    {
        // A range that runs past the last ID there is (2^32 - 2): newuidmap refuses it.
        using var user = new TestUser(subordinateIds: true, firstId: 4294960000);
        using var p = ImageProject.Busybox();

        var run = p.BuildAs(user);

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0701");
        error.Text.ShouldContain("subuid overflow detected", Case.Insensitive, "the refusal itself, as newuidmap said it");
        File.Exists(p.OutputFile()).ShouldBeFalse();
        ImageProject.Sh($"ps -u '{user.Name}' -o pid= || true").Trim().ShouldBeEmpty();
    }

    [Fact]
    public void An_xfs_disk_stops_a_rootless_build_with_DIB0702_before_any_work()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageFormat>raw</ImageFormat><RootFileSystem>xfs</RootFileSystem></PropertyGroup>", """<Element Include="host-grub" />""");

        var run = p.BuildAs(_user.User);

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0702");
        error.Text.ShouldContain("loop");
        run.Output.ShouldNotContain("root.d");
    }
}
