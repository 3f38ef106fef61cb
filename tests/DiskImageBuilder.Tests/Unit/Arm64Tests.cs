using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The decisions an arm64 image takes before any work: UEFI as its only boot mode, the emulator
/// only when the host cannot run it, qemu's virt machine with AAVMF to boot it.
/// </summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class Arm64Tests
{
    [Theory]
    [InlineData("bios")]
    [InlineData("hybrid")]
    public void An_arm64_image_asked_for_a_BIOS_mode_is_DIB0721_naming_BootMode(string mode)
    {
        var where = new SourceLocation("/p/image.dibproj", 7);
        var d = Should.Throw<DibException>(() => BootModes.CheckArchitecture(mode, "arm64", where)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0721");
        d.Message.ShouldContain($"BootMode '{mode}'");
        d.Message.ShouldContain("UEFI only");
        d.Location.ShouldBe(where);
        Should.NotThrow(() => BootModes.CheckArchitecture(mode, "amd64", where));
        Should.NotThrow(() => BootModes.CheckArchitecture(BootModes.Uefi, "arm64", where));
    }

    [Fact]
    public void Arm64_without_a_BootMode_or_block_device_element_boots_by_UEFI()
    {
        var elements = Resolve.Elements(Repo.TestElements, "busybox-tree");
        elements.Providers.ContainsKey(BlockDeviceChoice.Provided).ShouldBeFalse();
        BlockDeviceChoice.Choose(null, "arm64", elements, null).ShouldBe(BootModes.Uefi);
        BlockDeviceChoice.Choose(null, "amd64", elements, null).ShouldBe(BootModes.Bios);
        Should.Throw<DibException>(() => BlockDeviceChoice.Choose("bios", "arm64", elements, null)).Diagnostics[0].Code.ShouldBe("DIB0721");
        QemuBoot.DefaultBootMode("arm64").ShouldBe(BootModes.Uefi);
    }

    [Fact]
    public void Only_an_architecture_the_host_cannot_run_is_emulated()
    {
        ForeignArchitecture.IsEmulated(ForeignArchitecture.HostArchitecture).ShouldBeFalse();
        // The test host is amd64 (BUILD-HOST.md); an arm64 host would build arm64 natively.
        ForeignArchitecture.HostArchitecture.ShouldBe("amd64");
        ForeignArchitecture.IsEmulated("arm64").ShouldBeTrue();
        ForeignArchitecture.Tools("arm64").Select(t => (t.Command, t.Package)).ShouldBe(
            [("qemu-aarch64-static", "qemu-user-static"), ("arch-test", "arch-test"), ("mount", "mount")]);
        ForeignArchitecture.Tools("amd64").ShouldBeEmpty();
        var log = new RecordingLog();
        ForeignArchitecture.Register("amd64", log, CancellationToken.None, "/nonexistent/binfmt_misc").ShouldBeNull("nothing to register, nothing mounted");
    }

    [Fact]
    public void The_EFI_binary_is_the_removable_media_path_of_the_architecture()
    {
        DiskImage.EfiBinary("arm64").ShouldBe(("BOOTAA64.EFI", "grub-efi-arm64-bin"));
        DiskImage.EfiBinary("amd64").ShouldBe(("BOOTX64.EFI", "grub-efi-amd64-bin"));
    }

    [Fact]
    public void An_arm64_image_boots_on_qemus_virt_machine_with_AAVMF()
    {
        using var scratch = new TempDir();
        var disk = scratch.Write("disk.qcow2", string.Empty, false);
        var spec = QemuBoot.Command(new BootOptions(disk, BootOptions.Ovmf) { Architecture = "arm64" }, scratch.Path);
        spec.FileName.ShouldBe("qemu-system-aarch64");
        string.Join(' ', spec.Arguments).ShouldStartWith("-M virt -cpu max,pauth-impdef=on -accel tcg");
        spec.Arguments.ShouldContain($"if=pflash,format=raw,readonly=on,file={QemuBoot.AavmfCode}");
        spec.Arguments.ShouldContain($"if=pflash,format=raw,file={scratch.Combine("AAVMF_VARS.fd")}");
        File.Exists(scratch.Combine("AAVMF_VARS.fd")).ShouldBeTrue("the variable store is a copy; the firmware's own stays untouched");

        var bios = Should.Throw<DibException>(() => QemuBoot.Command(new BootOptions(disk, BootOptions.SeaBios) { Architecture = "arm64" }, scratch.Path));
        bios.Diagnostics[0].Code.ShouldBe("DIB0721");
        bios.Message.ShouldContain("Firmware 'bios'");
    }
}
