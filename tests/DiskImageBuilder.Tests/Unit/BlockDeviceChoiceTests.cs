using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Elements;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Which layout an image gets: the block-device element's own YAML (DIB's), and the boot mode it
/// implies; a BootMode the user set picks the engine's layout of that name instead.
/// </summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class BlockDeviceChoiceTests
{
    private static (BuildRequest Request, BlockDeviceConfig? Layout, string? LayoutFile) Resolve(string element, string bootMode = "", string architecture = "amd64")
    {
        var request = new BuildRequest
        {
            ImageName = "image",
            Elements = [new("busybox-tree"), new("vm"), new(element)],
            SkipBaseElement = true,
            Architecture = architecture,
            BootMode = bootMode,
            OutputDirectory = "/nonexistent",
            WorkDirectory = "/nonexistent",
        };
        var elements = ImageBuilder.ResolveElements(new ElementRepository([Repo.TestElements, Repo.Elements]), request);
        return BlockDeviceChoice.Resolve(request, elements, null);
    }

    [Theory]
    [InlineData("block-device-mbr", "amd64", "bios", "mbr", "root")]
    [InlineData("block-device-gpt", "amd64", "bios", "gpt", "BSP root")]
    [InlineData("block-device-efi", "amd64", "hybrid", "gpt", "ESP BSP root")]
    [InlineData("block-device-efi", "arm64", "uefi", "gpt", "ESP BSP root")]
    public void Each_element_brings_DIBs_layout_and_the_boot_mode_it_implies(string element, string architecture, string bootMode, string label, string partitions)
    {
        var (request, layout, file) = Resolve(element, architecture: architecture);

        layout.ShouldNotBeNull();
        file.ShouldBe(Path.Combine(Repo.Elements, element, "block-device-default.yaml"));
        request.BlockDeviceConfig.ShouldBe(file, "pinned: later readers see the same layout once BootMode is filled in");
        request.BootMode.ShouldBe(bootMode);
        layout.Tables.ShouldHaveSingleItem().Label.ToString().ToLowerInvariant().ShouldBe(label);
        string.Join(' ', layout.Tables[0].Partitions.Select(p => p.Name)).ShouldBe(partitions);
        layout.Root.Label.ShouldBe("cloudimg-rootfs");
        LayoutDisk.Load(request, []).ShouldNotBeNull().Source.ShouldBe(file);
    }

    [Fact]
    public void The_root_filesystem_follows_RootFileSystem_in_every_elements_layout()
    {
        foreach (var element in new[] { "block-device-mbr", "block-device-gpt", "block-device-efi" })
        {
            var request = new BuildRequest
            {
                ImageName = "image",
                Elements = [new("busybox-tree"), new("vm"), new(element)],
                SkipBaseElement = true,
                RootFileSystem = "xfs",
                OutputDirectory = "/nonexistent",
                WorkDirectory = "/nonexistent",
            };
            var elements = ImageBuilder.ResolveElements(new ElementRepository([Repo.TestElements, Repo.Elements]), request);
            var (resolved, layout, _) = BlockDeviceChoice.Resolve(request, elements, null);
            (layout!.Root.Type, layout.Root.Label, resolved.RootFileSystem).ShouldBe(("xfs", "img-rootfs", "xfs"), element);
        }
    }

    [Fact]
    public void A_BootMode_the_user_set_picks_the_engines_layout_which_the_element_must_agree_with()
    {
        var (request, layout, file) = Resolve("block-device-efi", "uefi");

        layout.ShouldBeNull();
        file.ShouldBeNull();
        request.BlockDeviceConfig.ShouldBeNull();
        request.BootMode.ShouldBe("uefi");
        BootModes.Config(request.BootMode, new RootDefaults("ext4", null, null)).Tables[0].Partitions.Select(p => p.Name).ShouldBe(["ESP", "root"]);
        Should.Throw<DibException>(() => Resolve("block-device-mbr", "hybrid")).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0006");
        Should.Throw<DibException>(() => Resolve("block-device-gpt", architecture: "arm64")).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0006");
    }
}
