using System.Text.Json;
using DiskImageBuilder.Elements;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// DIB's block-device-* elements choose the disk layout (DIB_BLOCK_DEVICE), `vm` gets DIB's
/// default, and a BootMode that contradicts them is an error. Disks of the offline busybox tree
/// with the host's GRUB, read back with sfdisk. Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class BlockDeviceTests
{
    private const string BiosBoot = "21686148-6449-6E6F-744E-656564454649";
    private const string Esp = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    private const string Linux = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

    [Theory]
    [InlineData("block-device-mbr", "", "1", "dos", "83")]
    [InlineData("block-device-gpt", "", "", "gpt", BiosBoot + " " + Esp + " " + Linux)]
    [InlineData("block-device-efi", "", "", "gpt", BiosBoot + " " + Esp + " " + Linux)]
    [InlineData("block-device-efi", "uefi", "", "gpt", Esp + " " + Linux)]
    public void Block_device_elements_choose_the_partition_table_and_hooks_see_the_disk_size(string element, string bootMode, string imageSize, string label, string types)
    {
        using var p = ImageProject.Busybox(
            $"<PropertyGroup><ImageFormat>raw</ImageFormat><BootMode>{bootMode}</BootMode><ImageSize>{imageSize}</ImageSize></PropertyGroup>",
            $"""<Element Include="host-grub" /><Element Include="{element}" /><Element Include="probe" />""");
        p.Write("elements/probe/root.d/90-probe", "#!/bin/sh\necho \"${DIB_IMAGE_SIZE-unset}\" > \"$TARGET_ROOT/etc/size-early\"\n");
        p.Write("elements/probe/cleanup.d/50-probe", "#!/bin/sh\necho \"$DIB_BLOCK_DEVICE $DIB_BOOT_MODE $DIB_IMAGE_SIZE\" > \"$TARGET_ROOT/etc/block-device\"\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{p.OutputFile("raw")}'"));
        var pt = table.RootElement.GetProperty("partitiontable");
        pt.GetProperty("label").GetString().ShouldBe(label);
        var parts = pt.GetProperty("partitions").EnumerateArray().ToList();
        string.Join(' ', parts.Select(x => x.GetProperty("type").GetString())).ShouldBe(types);
        if (label == "dos")
        {
            parts[0].GetProperty("bootable").GetBoolean().ShouldBeTrue();
        }

        var root = p.Combine("root.img");
        ImageProject.Sh($"dd if='{p.OutputFile("raw")}' of='{root}' bs=512 skip={parts[^1].GetProperty("start").GetInt64()} count={parts[^1].GetProperty("size").GetInt64()} status=none");
        var seen = ImageProject.Sh($"debugfs -R 'cat /etc/block-device' '{root}' 2>/dev/null").Trim();
        var diskKib = new FileInfo(p.OutputFile("raw")).Length / 1024;
        seen.ShouldBe($"{element["block-device-".Length..]} {(bootMode == "uefi" ? "uefi" : label == "dos" ? "bios" : "hybrid")} {diskKib}");

        // Before block-device.d, DIB_IMAGE_SIZE is --image-size as given (GB), if given.
        ImageProject.Sh($"debugfs -R 'cat /etc/size-early' '{root}' 2>/dev/null").Trim().ShouldBe(imageSize == "" ? "unset" : imageSize);
        if (imageSize != "")
        {
            diskKib.ShouldBe(1024 * 1024);
        }
    }

    [Theory]
    [InlineData("<BootMode>bios</BootMode>", "block-device-efi", "DIB0006", "BootMode 'bios' conflicts with element 'block-device-efi'")]
    [InlineData("<BootMode>uefi</BootMode>", "block-device-mbr", "DIB0006", "BootMode 'uefi' conflicts with element 'block-device-mbr'")]
    [InlineData("<BootMode>uefi</BootMode>", "block-device-gpt", "DIB0006", "BootMode 'uefi' conflicts with element 'block-device-gpt'")]
    [InlineData("<Architecture>arm64</Architecture>", "block-device-mbr", "DIB0006", "arm64 cannot boot")]
    [InlineData("", "odd-block-device", "DIB0007", "Element 'odd-block-device' provides 'block-device' but sets DIB_BLOCK_DEVICE=lvm")]
    public void A_block_device_element_the_build_cannot_honour_is_a_coded_error_before_any_work(string properties, string element, string code, string message)
    {
        using var p = ImageProject.Busybox(
            $"<PropertyGroup><ImageFormat>raw</ImageFormat>{properties}</PropertyGroup>",
            $"""<Element Include="host-grub" /><Element Include="{element}" /><Element Include="never" />""");
        p.Write("elements/odd-block-device/element-provides", "block-device\n", false);
        p.Write("elements/odd-block-device/environment.d/10-bd", "export DIB_BLOCK_DEVICE=lvm\n", false);
        p.Write("elements/never/root.d/01-never", "#!/bin/sh\nexit 1\n");

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe(code);
        error.Text.ShouldContain(message);
        if (code == "DIB0006")
        {
            error.File.ShouldBe(p.ProjectFile, "the project's BootMode or Architecture is what to change");
        }

        run.Ran("CreateImage").ShouldBeFalse("the conflict is found when the project is read");
        run.Messages.ShouldNotContain(m => m.Contains("root.d: ", StringComparison.Ordinal), "nothing runs");
    }

    [Theory]
    [InlineData("amd64", "", "block-device-mbr")]
    [InlineData("amd64", "uefi", "block-device-efi")]
    [InlineData("amd64", "hybrid", "block-device-efi")]
    [InlineData("arm64", "", "block-device-efi")]
    public void Vm_without_a_block_device_element_gets_DIBs_default(string arch, string bootMode, string expected)
    {
        var request = new BuildRequest
        {
            ImageName = "image",
            Elements = [new("busybox-tree"), new("vm")],
            SkipBaseElement = true,
            Architecture = arch,
            BootMode = bootMode,
            OutputDirectory = "/nonexistent",
            WorkDirectory = "/nonexistent",
        };

        var elements = ImageBuilder.ResolveElements(new ElementRepository([Repo.TestElements, Repo.Elements]), request);

        elements.Names.Where(n => n.StartsWith("block-device-", StringComparison.Ordinal)).ShouldBe([expected]);
        elements.Providers["block-device"].Name.ShouldBe(expected);

        // Named explicitly, the user's element stays the only one.
        var gpt = ImageBuilder.ResolveElements(new ElementRepository([Repo.TestElements, Repo.Elements]), request with { Elements = [.. request.Elements, new("block-device-gpt")] });
        gpt.Names.Where(n => n.StartsWith("block-device-", StringComparison.Ordinal)).ShouldBe(["block-device-gpt"]);
    }
}
