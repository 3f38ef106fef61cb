using DiskImageBuilder.Boot;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// A Debian image with its root on LVM (DIB's documented LVM example, with ext4 and fewer volumes),
/// written without device-mapper, booted under qemu (TCG): the initramfs activates the volume group.
/// </summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class LvmBootTests
{
    private const string Layout = """
        - local_loop:
            name: image0
        - partitioning:
            base: image0
            label: mbr
            partitions:
              - name: root
                flags: [boot, primary]
                size: 100%
        - lvm:
            name: lvm
            pvs:
              - name: pv
                options: ["--force"]
                base: root
            vgs:
              - name: vg
                base: ["pv"]
                options: ["--force"]
            lvs:
              - name: lv_root
                base: vg
                size: 1800M
              - name: lv_tmp
                base: vg
                size: 100M
              - name: lv_var
                base: vg
                size: 500M
              - name: lv_home
                base: vg
                size: 200M
        - mkfs:
            name: fs_root
            base: lv_root
            type: ext4
            label: cloudimg-rootfs
            mount:
              mount_point: /
              fstab: {options: "rw,relatime", fsck-passno: 1}
        - mkfs:
            name: fs_tmp
            base: lv_tmp
            type: ext4
            label: tmp
            mount:
              mount_point: /tmp
              fstab: {options: "rw,nosuid,nodev,noexec,relatime", fsck-passno: 2}
        - mkfs:
            name: fs_var
            base: lv_var
            type: ext4
            label: var
            mount:
              mount_point: /var
              fstab: {options: "rw,relatime", fsck-passno: 2}
        - mkfs:
            name: fs_home
            base: lv_home
            type: ext4
            label: home
            mount:
              mount_point: /home
              fstab: {options: "rw,nodev,relatime", fsck-passno: 2}
        """;

    [Fact]
    public void Debian_with_root_on_lvm_boots_to_a_login_prompt_with_its_logical_volumes_active()
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
                <Element Include="lvm" />
                <Element Include="boot-report" />
              </ItemGroup>
            """, name: "lvm-root");
        p.Write("layout.yaml", Layout);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var image = p.OutputFile("qcow2");
        ImageProject.Sh($"qemu-img check '{image}'").ShouldContain("No errors were found");
        var boot = BootTests.Boot(image, BootOptions.SeaBios);
        BootTests.ShouldHaveBootedCleanly(boot);
        var report = boot.Report!;
        report.ShouldContain("root=/dev/mapper/vg-lv_root ", Case.Sensitive, boot.Console);

        // lvs in the guest: every LV of the layout active and open (mounted), "-wi-ao".
        var lvs = report[(report.IndexOf("lvs=", StringComparison.Ordinal) + 4)..].Split(',');
        lvs.Select(l => string.Join('/', l.Split('/').Take(2))).Order(StringComparer.Ordinal).ToList().ShouldBe(["vg/lv_home", "vg/lv_root", "vg/lv_tmp", "vg/lv_var"], boot.Console);
        lvs.ShouldAllBe(l => l.Split('/', StringSplitOptions.None)[2].StartsWith("-wi-ao", StringComparison.Ordinal), boot.Console);
        HostFiles.MountsUnder(p.Dir).ShouldBeEmpty();
        ImageProject.Sh("losetup -a").ShouldNotContain(p.Dir);
    }
}
