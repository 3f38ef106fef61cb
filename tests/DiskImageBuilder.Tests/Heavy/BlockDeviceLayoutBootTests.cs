using DiskImageBuilder.Boot;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// A Debian image from a DIB block-device configuration with separate /boot, / and /var on GPT (plus ESP
/// and BIOS boot partition), built once and booted under qemu (TCG): GRUB finds its files and the kernel
/// on /boot, the fstab written from the configuration mounts every filesystem (findmnt in the guest says
/// so) and no unit fails.
/// </summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class BlockDeviceLayoutBootTests
{
    private const string Layout = """
        - local_loop:
            name: image0
        - partitioning:
            base: image0
            label: gpt
            partitions:
              - name: BSP
                type: EF02
                size: 1MiB
              - name: ESP
                type: EF00
                size: 64MiB
                mkfs: {type: vfat, label: esp, mount: {mount_point: /boot/efi, fstab: {options: "umask=0077", fsck-passno: 2}}}
              - name: boot
                size: 300MiB
                mkfs: {type: ext4, label: boot, mount: {mount_point: /boot, fstab: {}}}
              - name: root
                size: 60%
                mkfs: {mount: {mount_point: /, fstab: {fsck-passno: 1}}}
              - name: var
                size: 100%
                mkfs: {type: ext4, label: var, mount: {mount_point: /var, fstab: {}}}
        """;

    [Fact]
    public void A_GPT_image_with_separate_boot_root_and_var_boots_with_SeaBIOS_and_OVMF_and_mounts_them_all()
    {
        using var p = new ImageProject($"""
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <ImageFormat>qcow2</ImageFormat>
                <BlockDeviceConfig>layout.yaml</BlockDeviceConfig>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="debian" />
                <Element Include="vm" />
                <Element Include="boot-report" />
                <Element Include="mounts-report" />
              </ItemGroup>
            """, name: "layout");
        p.Write("layout.yaml", Layout);
        p.Write("elements/mounts-report/README.md", "Prints the mounted filesystems on the serial console once the boot is done (test element).\n", false);
        p.Write("elements/mounts-report/install.d/61-mounts-report", """
            #!/bin/bash
            set -eu -o pipefail
            cat > /etc/systemd/system/dib-mounts-report.service <<'UNIT'
            [Unit]
            Description=Report the mounted filesystems on the serial console (DiskImageBuilder tests)
            After=local-fs.target

            [Service]
            Type=oneshot
            ExecStart=/usr/local/sbin/dib-mounts-report

            [Install]
            WantedBy=multi-user.target
            UNIT
            cat > /usr/local/sbin/dib-mounts-report <<'SH'
            #!/bin/sh
            for m in / /boot /boot/efi /var; do findmnt -rn -o TARGET,SOURCE,LABEL,FSTYPE --mountpoint "$m"; done | paste -sd';' - | sed 's/^/DIB-MOUNTS /' > /dev/ttyS0
            SH
            chmod 755 /usr/local/sbin/dib-mounts-report
            systemctl enable dib-mounts-report.service
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var image = p.OutputFile("qcow2");
        foreach (var firmware in new[] { BootOptions.SeaBios, BootOptions.Ovmf })
        {
            var boot = BootTests.Boot(image, firmware);
            boot.LoginPrompt.ShouldBeTrue($"{firmware}: no login prompt:\n{boot.Console}");
            boot.Report.ShouldNotBeNull($"{firmware}: no boot report:\n{boot.Console}");
            boot.Report.ShouldContain("root=/dev/vda4 label=cloudimg-rootfs ", Case.Sensitive, boot.Console);
            boot.Report.ShouldContain("failed=none", Case.Sensitive, boot.Console);
            boot.Report.ShouldContain("state=running", Case.Sensitive, boot.Console);
            var mounts = boot.Console.Split('\n').Single(l => l.StartsWith("DIB-MOUNTS ", StringComparison.Ordinal)).Trim();
            mounts.ShouldBe("DIB-MOUNTS / /dev/vda4 cloudimg-rootfs ext4;/boot /dev/vda3 boot ext4;/boot/efi /dev/vda2 ESP vfat;/var /dev/vda5 var ext4", boot.Console);
        }
    }
}
