using System.Diagnostics;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The README's install line, into a private tool path: the four commands installed and runnable.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class CliInstallTests
{
    [Fact]
    public void Install_script_puts_the_four_commands_in_place()
    {
        using var tools = new TempDir();

        ImageProject.Sh($"'{Repo.Root}/eng/install-cli.sh' --tool-path '{tools.Path}'");

        ImageProject.Sh($"'{tools.Path}/disk-image-create' --version").ShouldStartWith("disk-image-create ");
        ImageProject.Sh($"ELEMENTS_PATH='{Repo.TestElements}' '{tools.Path}/element-info' --expand-dependencies busybox-tree").Trim().ShouldBe("busybox-tree");
        ImageProject.Sh($"'{tools.Path}/element-info' --list").ShouldContain("debian-minimal");
        ImageProject.Sh($"'{tools.Path}/ramdisk-image-create' --version").ShouldStartWith("ramdisk-image-create ");
        ImageProject.Sh($"'{tools.Path}/ramdisk-image-create' --help").ShouldContain("Usage: ramdisk-image-create [OPTION]... ELEMENT...");
        ImageProject.Sh($"'{tools.Path}/element-info' --list").ShouldContain("ramdisk-base");
        ImageProject.Sh($"'{tools.Path}/disk-image-get-kernel' --help").ShouldContain("Usage: disk-image-get-kernel -i IMAGE");
    }
}
