using System.Text.RegularExpressions;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// A Debian arm64 VM image built on this amd64 host (every in-image program under qemu-user-static)
/// and booted under qemu-system-aarch64 (TCG, virt machine) with Debian's AAVMF firmware. Built once.
/// </summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Emulated)]
public sealed partial class Arm64BootTests
{
    /// <summary>Emulated arm64 is several times slower than the amd64 boot's 40 s, more so on a loaded host.</summary>
    private static readonly TimeSpan LoginLimit = TimeSpan.FromMinutes(15);

    [Fact]
    public void Debian_vm_arm64_image_boots_with_AAVMF_under_qemu_system_aarch64_to_a_login_prompt_with_no_failed_unit()
    {
        using var p = new ImageProject($"""
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <Architecture>arm64</Architecture>
                <ImageFormat>qcow2</ImageFormat>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="debian" />
                <Element Include="vm" />
                <Element Include="boot-report" />
                <!-- With no cloud in sight, cloud-init on arm64 (no DMI match) probes every metadata service
                     for minutes before the login prompt; on the PC machine ds-identify switches it off. -->
                <Element Include="cloud-init-datasources" />
                <ImageEnvironment Include="DIB_CLOUD_INIT_DATASOURCES" Value="NoCloud" />
                <!-- Emulated on a loaded host, udev may announce ttyAMA0 after systemd's 90 s device
                     timeout, and the serial getty then never starts (seen: "Timed out waiting for
                     device dev-ttyAMA0.device"). The element's default arguments, plus a longer wait. -->
                <ImageEnvironment Include="DIB_BOOTLOADER_DEFAULT_CMDLINE" Value="nofb nomodeset gfxpayload=text systemd.default_timeout_start_sec=900" />
              </ItemGroup>
            """, name: "arm64");
        // A cold build emulates every maintainer script and the initramfs generation. eng/test.sh runs
        // it beside the Heavy tier: at the lowest priority, so those tests come first.
        // The boot below is not niced: a starved guest's own timeouts (udev's, systemd's) would fail it.
        p.Environment[Dotnet.LimitVariable] = "60";
        p.Environment[Dotnet.NiceVariable] = "19";

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        // The handler the build registered is gone, and the build ran on this amd64 host.
        var handler = run.Messages.Select(m => HandlerLine().Match(m)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
        handler.ShouldNotBeNull(run.Output);
        File.Exists(handler).ShouldBeFalse("the build removed its binfmt_misc handler");
        ForeignArchitecture.HostArchitecture.ShouldBe("amd64");
        p.MountsUnderProject().ShouldBeEmpty();

        var boot = BootTests.Boot(new BootOptions(p.OutputFile("qcow2"), BootOptions.Ovmf) { Architecture = "arm64", MemoryMiB = 2048 }, limit: LoginLimit);

        BootTests.ShouldHaveBootedCleanly(boot, limit: LoginLimit);
        // vm on arm64 gets block-device-efi, whose layout is DIB's on every architecture: ESP, BIOS boot, root.
        boot.Report!.ShouldContain("root=/dev/vda3", customMessage: "block-device-efi's layout: the ESP, the BIOS boot partition, then the root");
        boot.Console.ShouldContain("-cloud-arm64", customMessage: "Debian's arm64 cloud kernel ran");
        boot.Console.ShouldContain("ttyAMA0", customMessage: "the PL011 serial line of the virt machine is the console");
    }

    [GeneratedRegex(@"binfmt_misc handler (/proc/sys/fs/binfmt_misc/\S+), fix-binary")]
    private static partial Regex HandlerLine();
}
