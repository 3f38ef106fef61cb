using DiskImageBuilder.Boot;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Debian ramdisks from ramdisk-image-create and from ImageType=ramdisk, booted the way Ironic
/// boots them (qemu -kernel/-initrd, no disk): the ramdisk's init loads the network driver, gets
/// an address by DHCP from qemu's user network, and runs the test element's init.d part, which
/// calls a binary-deps.d program and powers off.
/// </summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class RamdiskBootTests
{
    [Fact]
    public void A_dibproj_ramdisk_boots_to_its_init_d_part_with_a_DHCP_address_and_its_iso_with_SeaBIOS_and_OVMF()
    {
        using var p = new ImageProject($"""
            <PropertyGroup>
              <ImageType>ramdisk</ImageType>
              <ElementsPath>{Repo.TestElements}</ElementsPath>
            </PropertyGroup>
            <ItemGroup>
              <Element Include="debian-minimal" />
              <Element Include="ramdisk-marker" />
              <Element Include="iso" />
              <Package Include="linux-image-cloud-amd64" />
            </ItemGroup>
            """, "deploy");
        var run = p.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        var console = ShouldBoot(new BootOptions(string.Empty, BootOptions.SeaBios) { Kernel = p.OutputFile("kernel"), Initrd = p.OutputFile("initramfs") }, p.Combine("serial.log"));
        console.ShouldContain("ramdisk: eth0 has address 10.0.2.15", customMessage: console);

        // The iso element's hybrid ISO: GRUB from the CD under both firmwares, the same ramdisk.
        ImageProject.Sh($"xorriso -indev '{p.OutputFile("iso")}' -report_el_torito plain 2>&1").ShouldMatch(@"El Torito boot img :\s+1\s+BIOS[\s\S]*El Torito boot img :\s+2\s+UEFI");
        foreach (var firmware in (string[])[BootOptions.SeaBios, BootOptions.Ovmf])
        {
            var iso = ShouldBoot(new BootOptions(p.OutputFile("iso"), firmware), p.Combine($"serial-iso-{firmware}.log"), "boot_method=vmedia console=tty0 console=ttyS0,115200");
            iso.ShouldContain("BOOT_IMAGE=/boot/kernel", customMessage: iso);
        }
    }

    [Fact]
    public void A_dracut_ramdisk_boots_to_its_init_d_part_with_a_DHCP_address()
    {
        using var p = new ImageProject($"""
            <PropertyGroup>
              <ImageType>ramdisk</ImageType>
              <RamdiskElement>dracut-ramdisk</RamdiskElement>
              <ElementsPath>{Repo.TestElements}</ElementsPath>
            </PropertyGroup>
            <ItemGroup>
              <Element Include="debian-minimal" />
              <Element Include="ramdisk-marker" />
              <Package Include="linux-image-cloud-amd64" />
            </ItemGroup>
            """, "dracut");
        var run = p.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        var console = ShouldBoot(new BootOptions(string.Empty, BootOptions.SeaBios) { Kernel = p.OutputFile("kernel"), Initrd = p.OutputFile("initramfs") }, p.Combine("serial.log"));
        console.ShouldContain("dracut: Starting dhcp for interface", customMessage: console);
        console.ShouldNotContain("ramdisk: kernel ", customMessage: "dracut's init, not the busybox one");
    }

    [Fact]
    public void ramdisk_image_create_builds_a_ramdisk_that_boots_to_its_init_d_part()
    {
        using var dir = new TempDir();
        var env = RequestValues.ProcessEnvironment().ToDictionary();
        env["ELEMENTS_PATH"] = Repo.TestElements;
        var run = CliHost.Ramdisk(env, dir.Path, "-o", "deploy", "-p", "linux-image-cloud-amd64", "debian-minimal", "ramdisk-marker");
        run.ExitCode.ShouldBe(0, run.ToString());
        run.Out.ShouldContain("deploy.initramfs");
        ShouldBoot(new BootOptions(string.Empty, BootOptions.SeaBios) { Kernel = dir.Combine("deploy.kernel"), Initrd = dir.Combine("deploy.initramfs") }, dir.Combine("serial.log"));
    }

    /// <summary>Boots until the marker element powers the machine off; returns the console.</summary>
    /// <param name="cmdline">The kernel command line the ramdisk must have seen (ours for -kernel, the ISO's GRUB entry's).</param>
    private static string ShouldBoot(BootOptions boot, string serialLog, string cmdline = "console=ttyS0 dib-test=ramdisk")
    {
        var options = boot with { KernelArgs = "console=ttyS0 dib-test=ramdisk", SerialLog = serialLog };
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var result = ProcessRunner.Run(QemuBoot.Command(options, Path.GetDirectoryName(serialLog)!), null, limit.Token);
        var console = File.ReadAllText(serialLog);
        result.ExitCode.ShouldBe(0, console);
        console.ShouldContain("RAMDISK-ADDRESSES inet 10.0.2.15/24", customMessage: console);
        console.ShouldMatch($@"RAMDISK-MARKER lsblk=\[lsblk from util-linux [0-9.]+\] cmdline=\[[^\]]*{System.Text.RegularExpressions.Regex.Escape(cmdline)}[^\]]*\]", console);
        return console;
    }
}
