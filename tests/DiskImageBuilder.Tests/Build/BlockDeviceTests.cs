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

    /// <summary>
    /// Each element ships DIB's layout (its block-device-default.yaml), so the disk's table is DIB's:
    /// the start sectors and sizes below are what DIB writes for that layout on a disk of that size (taken
    /// from DIB itself, see <see cref="DibGeometryTests"/>). A BootMode picks the engine's layout instead.
    /// </summary>
    [Theory]
    [InlineData("block-device-mbr", "", "2", "dos", "83", "bios", "2048:4190208")]
    [InlineData("block-device-gpt", "", "2", "gpt", BiosBoot + " " + Linux, "bios", "2048:16384 18432:4173824")]
    [InlineData("block-device-efi", "", "3", "gpt", Esp + " " + BiosBoot + " " + Linux, "hybrid", "2048:1126400 1128448:16384 1144832:5144576")]
    [InlineData("block-device-efi", "uefi", "", "gpt", Esp + " " + Linux, "uefi", "")]
    public void Block_device_elements_give_DIBs_partition_table_and_hooks_see_the_disk_size(
        string element, string bootMode, string imageSize, string label, string types, string seenMode, string dibSectors)
    {
        using var p = ImageProject.Busybox(
            $"<PropertyGroup><ImageFormat>raw</ImageFormat><BootMode>{bootMode}</BootMode><ImageSize>{imageSize}</ImageSize></PropertyGroup>",
            $"""<Element Include="host-grub" /><Element Include="{element}" /><Element Include="probe" />""");
        p.Write("elements/probe/root.d/90-probe", "#!/bin/sh\necho \"${DIB_IMAGE_SIZE-unset}\" > \"$TARGET_ROOT/etc/size-early\"\n");
        p.Write("elements/probe/cleanup.d/50-probe", "#!/bin/sh\necho \"$DIB_BLOCK_DEVICE $DIB_BOOT_MODE $DIB_IMAGE_SIZE\" > \"$TARGET_ROOT/etc/block-device\"\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var raw = p.OutputFile("raw");
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{raw}'"));
        var pt = table.RootElement.GetProperty("partitiontable");
        pt.GetProperty("label").GetString().ShouldBe(label);
        var parts = pt.GetProperty("partitions").EnumerateArray().ToList();
        string.Join(' ', parts.Select(x => x.GetProperty("type").GetString())).ShouldBe(types);
        if (dibSectors != "")
        {
            string.Join(' ', parts.Select(x => $"{x.GetProperty("start").GetInt64()}:{x.GetProperty("size").GetInt64()}")).ShouldBe(dibSectors, "DIB's start sectors and sizes");
        }

        if (label == "dos")
        {
            parts[0].GetProperty("bootable").GetBoolean().ShouldBeTrue();
        }
        else
        {
            ImageProject.Sh($"sgdisk -v '{raw}'").ShouldContain("No problems found");
        }

        // GRUB's boot.img points at core.img: in the BIOS boot partition, else right after the MBR.
        var sector0 = new byte[512];
        using (var f = File.OpenRead(raw))
        {
            f.ReadExactly(sector0);
        }

        if (seenMode != "uefi")
        {
            var biosBoot = parts.FirstOrDefault(x => x.GetProperty("type").GetString() == BiosBoot);
            BitConverter.ToUInt64(sector0, 0x5C).ShouldBe(biosBoot.ValueKind == JsonValueKind.Undefined ? 1UL : (ulong)biosBoot.GetProperty("start").GetInt64());
        }

        if (parts.FirstOrDefault(x => x.GetProperty("type").GetString() == Esp) is { ValueKind: JsonValueKind.Object } esp)
        {
            ImageProject.Sh($"mdir -i '{raw}@@{esp.GetProperty("start").GetInt64() * 512}' ::/EFI/BOOT").ShouldContain("BOOTX64");
        }

        var root = p.Combine("root.img");
        ImageProject.Sh($"dd if='{raw}' of='{root}' bs=512 skip={parts[^1].GetProperty("start").GetInt64()} count={parts[^1].GetProperty("size").GetInt64()} status=none");
        ImageProject.Sh($"e2fsck -fn '{root}'");
        ImageProject.Sh($"e2label '{root}'").Trim().ShouldBe("cloudimg-rootfs");
        var seen = ImageProject.Sh($"debugfs -R 'cat /etc/block-device' '{root}' 2>/dev/null").Trim();
        var diskKib = new FileInfo(raw).Length / 1024;
        seen.ShouldBe($"{element["block-device-".Length..]} {seenMode} {diskKib}");

        // Before block-device.d, DIB_IMAGE_SIZE is --image-size as given (GB), if given.
        ImageProject.Sh($"debugfs -R 'cat /etc/size-early' '{root}' 2>/dev/null").Trim().ShouldBe(imageSize == "" ? "unset" : imageSize);
        if (imageSize != "")
        {
            diskKib.ShouldBe(long.Parse(imageSize, System.Globalization.CultureInfo.InvariantCulture) * 1024 * 1024);
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
