using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>ramdisk-image-create's command line, ImageType, and the lookups its checks use.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class RamdiskOptionTests
{
    private static Dictionary<string, string> Env(params (string Key, string Value)[] more)
    {
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = Repo.TestElements };
        foreach (var (key, value) in more)
        {
            env[key] = value;
        }

        return env;
    }

    [Fact]
    public void ramdisk_image_create_adds_the_ramdisk_element_first_and_names_the_outputs_as_DIB()
    {
        using var dir = new TempDir();
        var command = CliHost.ParseRamdisk(Env(), dir.Path, "-o", "deploy", "busybox-tree");
        command.Request.RamdiskElement.ShouldBe("ramdisk");
        command.Request.OutputPaths().ShouldBe([dir.Combine("deploy.kernel"), dir.Combine("deploy.initramfs")]);
        var resolved = ImageBuilder.ResolveElements(new Elements.ElementRepository(command.Request.ElementsPath), command.Request);
        resolved.Names.ShouldContain("ramdisk");
        resolved.Names.ShouldContain("ramdisk-base");

        CliHost.ParseRamdisk(Env(), dir.Path, "--ramdisk-element", "ramdisk-base", "busybox-tree").Request.RamdiskElement.ShouldBe("ramdisk-base");
        CliHost.ParseRamdisk(Env(("RAMDISK_ELEMENT", "host-bash")), dir.Path, "busybox-tree").Request.RamdiskElement.ShouldBe("host-bash");
        CliHost.ParseRamdisk(Env(("DIB_RAMDISK_ELEMENT", "boot-report")), dir.Path, "busybox-tree").Request.RamdiskElement.ShouldBe("boot-report");
        CliHost.Parse(Env(), dir.Path, "busybox-tree").Request.RamdiskElement.ShouldBeNull("disk-image-create builds a disk image");
    }

    [Fact]
    public void ramdisk_image_create_help_names_itself_and_the_ramdisk_element_option()
    {
        var help = CliHost.Ramdisk(Env(), Path.GetTempPath(), "--help");
        help.ExitCode.ShouldBe(0);
        help.Out.ShouldStartWith("Usage: ramdisk-image-create [OPTION]... ELEMENT...");
        help.Out.ShouldContain("--ramdisk-element E   ramdisk-image-create: the element that builds the ramdisk");
        CliHost.Ramdisk(Env(), Path.GetTempPath(), "--version").Out.ShouldStartWith("ramdisk-image-create ");
    }

    [Fact]
    public void ramdisk_image_create_keeps_the_name_given_with_o_even_when_it_looks_like_a_format()
    {
        using var dir = new TempDir();
        CliHost.ParseRamdisk(Env(), dir.Path, "-o", "deploy.qcow2", "busybox-tree").Request.OutputPaths()
            .ShouldBe([dir.Combine("deploy.qcow2.kernel"), dir.Combine("deploy.qcow2.initramfs")]);
    }

    [Fact]
    public void ImageType_is_disk_or_ramdisk_and_RamdiskElement_wins_over_the_variables()
    {
        Func<string, string?> env = name => name == "RAMDISK_ELEMENT" ? "from-variable" : null;
        Func<string, string?> none = _ => null;
        RequestValues.ParseImageType(null, null, env, null).ShouldBeNull();
        RequestValues.ParseImageType("Disk", "x", env, null).ShouldBeNull();
        RequestValues.ParseImageType("ramdisk", null, none, null).ShouldBe("ramdisk");
        RequestValues.ParseImageType("ramdisk", null, env, null).ShouldBe("from-variable");
        RequestValues.ParseImageType("ramdisk", "dracut-ramdisk", env, null).ShouldBe("dracut-ramdisk");
        Should.Throw<DibException>(() => RequestValues.ParseImageType("iso", null, env, null)).Diagnostics.Single().Code.ShouldBe("DIB0501");
    }

    [Fact]
    public void Lookups_in_the_tree_follow_links_inside_the_tree_never_on_the_host()
    {
        using var tree = new TempDir();
        Directory.CreateDirectory(tree.Combine("usr", "bin"));
        File.WriteAllText(tree.Combine("usr", "bin", "kmod"), string.Empty);
        File.CreateSymbolicLink(tree.Combine("bin"), "usr/bin");
        File.CreateSymbolicLink(tree.Combine("usr", "bin", "modprobe"), "/usr/bin/kmod");
        File.CreateSymbolicLink(tree.Combine("usr", "bin", "sh"), "/bin/sh-not-in-tree");
        File.CreateSymbolicLink(tree.Combine("usr", "bin", "loop"), "loop");
        File.CreateSymbolicLink(tree.Combine("usr", "bin", "up"), "../../../../../../usr/bin/kmod");

        HostFiles.ExistsInTree(tree.Path, "/bin/kmod").ShouldBeTrue();
        HostFiles.ExistsInTree(tree.Path, "/bin/modprobe").ShouldBeTrue("an absolute link is read inside the tree");
        HostFiles.ExistsInTree(tree.Path, "/usr/bin/up").ShouldBeTrue(".. stops at the tree's root");
        HostFiles.ExistsInTree(tree.Path, "/bin/sh").ShouldBeFalse("the host's /bin/sh-not-in-tree does not count, nor does the host's /bin/sh");
        HostFiles.ExistsInTree(tree.Path, "/usr/bin/loop").ShouldBeFalse();
        HostFiles.ExistsInTree(tree.Path, "/usr").ShouldBeFalse("a folder is no program");
    }
}
