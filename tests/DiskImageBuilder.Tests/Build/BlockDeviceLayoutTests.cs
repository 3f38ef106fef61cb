using System.Text.Json;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Disks from DIB block-device configurations, built from small trees and read back with sfdisk,
/// sgdisk and the filesystems' own tools. The partition numbers for a given disk size are DIB's (see
/// Unit/DibGeometryTests for how they were taken from DIB). Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class BlockDeviceLayoutTests
{
    private const string Linux = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

    // DIB-style MBR: /boot and / primary, /var, /tmp and /home logical; a fixed 2 GiB disk.
    private const string MbrLayout = """
        - local_loop:
            name: image0
            size: 2GiB
        - partitioning:
            base: image0
            label: mbr
            partitions:
              - name: boot
                flags: [boot, primary]
                size: 200MiB
                mkfs: {type: ext2, label: boot, mount: {mount_point: /boot, fstab: {options: "nodev", fsck-passno: 2}}}
              - name: root
                flags: [primary]
                size: 1GiB
                mkfs: {mount: {mount_point: /, fstab: {fsck-passno: 1}}}
              - name: var
                size: 300MiB
                mkfs: {type: ext4, label: var, mount: {mount_point: /var, fstab: {}}}
              - name: tmp
                size: 20%
                mkfs: {type: ext3, label: tmp, mount: {mount_point: /tmp, fstab: {}}}
              - name: home
                size: 100%
                mkfs: {type: swap, label: swap, mount: {mount_point: /swap, fstab: {}}}
        """;

    [Fact]
    public void An_MBR_layout_with_logical_partitions_gets_DIB_s_table_each_filesystem_its_part_of_the_tree_and_DIB_s_fstab()
    {
        using var p = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>raw</ImageFormat><DisablePhaseCache>true</DisablePhaseCache><BlockDeviceConfig>layout.yaml</BlockDeviceConfig></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="probe" />""");
        p.Write("layout.yaml", MbrLayout);
        p.Write("elements/probe/finalise.d/50-probe", "#!/bin/sh\necho \"$DIB_ROOT_LABEL $DIB_ROOT_FSTYPE $DIB_BOOT_LABEL $DIB_BOOT_MODE\" > /etc/probe\ncp /etc/fstab /etc/fstab.seen\necho boot-file > /boot/marker\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var raw = p.OutputFile("raw");
        new FileInfo(raw).Length.ShouldBe(2L << 30);
        var parts = Partitions(raw, out var label);
        label.ShouldBe("dos");
        // DIB's numbers for this table on a 2 GiB disk (Unit/DibGeometryTests, "mbr-primary-and-logical").
        string.Join(' ', parts.Select(x => $"{x.Number}:{x.Start}:{x.Size}:{x.Type}"))
            .ShouldBe("1:2048:409600:83 2:411648:2097152:83 3:2508800:1685504:f 5:2510848:614400:83 6:3127296:213401:83 7:3344384:849920:83");
        ImageProject.Sh($"sfdisk --verify '{raw}'").ShouldContain("No errors detected.");

        var root = Slice(p, raw, parts.Single(x => x.Number == 2), "root");
        ImageProject.Sh($"debugfs -R 'cat /etc/fstab' '{root}' 2>/dev/null").ShouldBe(
            "LABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=boot /boot ext2 nodev 0 2\nLABEL=swap none swap sw 0 0\nLABEL=tmp /tmp ext3 defaults 0 2\nLABEL=var /var ext4 defaults 0 2");
        ImageProject.Sh($"debugfs -R 'cat /etc/fstab.seen' '{root}' 2>/dev/null").ShouldContain("LABEL=var /var ext4");
        ImageProject.Sh($"debugfs -R 'cat /etc/probe' '{root}' 2>/dev/null").Trim().ShouldBe("cloudimg-rootfs ext4 boot bios");
        // Mount points stay as empty folders in the root filesystem; their files are in their own.
        ImageProject.Sh($"debugfs -R 'ls -p /var' '{root}' 2>/dev/null").ShouldNotContain("log");
        var boot = Slice(p, raw, parts.Single(x => x.Number == 1), "boot");
        ImageProject.Sh($"blkid -o value -s TYPE '{boot}'").Trim().ShouldBe("ext2");
        ImageProject.Sh($"debugfs -R 'cat /marker' '{boot}' 2>/dev/null").Trim().ShouldBe("boot-file");
        ImageProject.Sh($"debugfs -R 'ls -p /grub/i386-pc' '{boot}' 2>/dev/null").ShouldContain("core.img");
        var var = Slice(p, raw, parts.Single(x => x.Number == 5), "var");
        ImageProject.Sh($"debugfs -R 'ls -p /' '{var}' 2>/dev/null").ShouldContain("/log/");
        ImageProject.Sh($"blkid -o value -s TYPE '{Slice(p, raw, parts.Single(x => x.Number == 6), "tmp")}'").Trim().ShouldBe("ext3");
        ImageProject.Sh($"blkid -o value -s LABEL '{Slice(p, raw, parts.Single(x => x.Number == 7), "swap")}'").Trim().ShouldBe("swap");
        // GRUB's boot code in sector 0, its core image in the gap before the first partition.
        ImageProject.Sh($"dd if='{raw}' bs=512 count=1 status=none | grep -c GRUB || true").Trim().ShouldBe("1");
    }

    [Fact]
    public void A_GPT_layout_without_a_size_is_made_as_large_as_its_filesystems_need_for_a_tree_without_a_shell()
    {
        using var p = new ImageProject($"""
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <SkipBaseElement>true</SkipBaseElement>
                <ImageFormat>raw</ImageFormat>
                <DisablePhaseCache>true</DisablePhaseCache>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="files-tree" />
                <ImageEnvironment Include="DIB_BLOCK_DEVICE_CONFIG" Value="file://$(MSBuildProjectDirectory)/layout.yaml" />
              </ItemGroup>
            """);
        p.Environment["DIB_IMAGE_CACHE"] = p.Combine("cache");
        p.Write("layout.yaml", """
            - local_loop:
                name: image0
            - partitioning:
                base: image0
                label: gpt
                partitions:
                  - name: ESP
                    type: EF00
                    size: 16MiB
                    mkfs: {type: vfat, label: esp, mount: {mount_point: /boot/efi, fstab: {}}}
                  - name: root
                    size: 40%
                    mkfs: {type: ext4, label: root, mount: {mount_point: /, fstab: {fsck-passno: 1}}}
                  - name: srv
                    type: '8306'
                    size: 100%
                    mkfs: {type: xfs, label: srv, mount: {mount_point: /srv, fstab: {}}}
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var raw = p.OutputFile("raw");
        var parts = Partitions(raw, out var label);
        label.ShouldBe("gpt");
        ImageProject.Sh($"sgdisk -v '{raw}'").ShouldContain("No problems found.");
        parts.Select(x => x.Type).ShouldBe(["C12A7328-F81F-11D2-BA4B-00A0C93EC93B", Linux, "3B8F8425-20E0-4F3B-907F-1A25A76F98E8"]);
        // DIB's GPT placement for whatever size was chosen: whole MiB from sector 2048, 40% of the disk less 2 MiB less 16 MiB.
        var disk = new FileInfo(raw).Length;
        parts[0].Start.ShouldBe(2048);
        parts[1].Start.ShouldBe(2048 + parts[0].Size);
        parts[1].Size.ShouldBe((long)((disk - (2 << 20) - (16 << 20)) * 0.40) / (1 << 20) * 2048);
        // xfs cannot be smaller than 300 MiB: the disk grew until 60% of the rest held it.
        (parts[2].Size * 512).ShouldBeGreaterThanOrEqualTo(300L << 20);

        var root = Slice(p, raw, parts[1], "root");
        ImageProject.Sh($"debugfs -R 'cat /etc/fstab' '{root}' 2>/dev/null").ShouldBe("LABEL=root / ext4 defaults 0 1\nLABEL=ESP /boot/efi vfat defaults 0 2\nLABEL=srv /srv xfs defaults 0 2");
        ImageProject.Sh($"debugfs -R 'cat /var/lib/data/state' '{root}' 2>/dev/null").Trim().ShouldBe("var data");
        ImageProject.Sh($"debugfs -R 'ls -p /srv' '{root}' 2>/dev/null").ShouldNotContain("blob");
        var srv = Slice(p, raw, parts[2], "srv");
        ImageProject.Sh($"blkid -o value -s LABEL '{srv}'").Trim().ShouldBe("srv");
        ImageProject.Sh($"xfs_db -r -c 'ls /www' '{srv}'").ShouldContain("blob");
        ImageProject.Sh($"blkid -o value -s LABEL '{Slice(p, raw, parts[0], "esp")}'").Trim().ShouldBe("ESP");
    }

    [Fact]
    public void A_filesystem_its_partition_cannot_hold_is_DIB0232_naming_it_and_a_missing_config_file_DIB0231()
    {
        using var p = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>raw</ImageFormat><BlockDeviceConfig>layout.yaml</BlockDeviceConfig></PropertyGroup>",
            """<Element Include="host-grub" />""");
        p.Write("layout.yaml", """
            - local_loop: {name: image0}
            - partitioning:
                base: image0
                label: gpt
                partitions:
                  - name: root
                    size: 64MiB
                    mkfs: {name: tiny_root, type: ext4, mount: {mount_point: /}}
                  - {name: rest, size: 100%}
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0232");
        error.Text.ShouldContain("Filesystem 'tiny_root'");
        error.Text.ShouldContain("partition 'root''s size");

        File.Delete(p.Combine("layout.yaml"));
        var missing = p.Build();
        missing.Succeeded.ShouldBeFalse();
        var e = missing.Errors.ShouldHaveSingleItem(missing.Output);
        e.Code.ShouldBe("DIB0231");
        e.Text.ShouldContain("layout.yaml");
    }

    [Fact]
    public void A_bad_layout_fails_before_any_hook_at_its_line_and_editing_the_layout_rebuilds_the_image()
    {
        using var p = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>raw</ImageFormat><BlockDeviceConfig>layout.yaml</BlockDeviceConfig></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="never" />""");
        p.Write("elements/never/root.d/01-never", "#!/bin/sh\nexit 1\n");
        var layout = p.Write("layout.yaml", "- local_loop: {name: image0, size: 300MiB}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - {name: root, flags: [boot, primary], size: 100%, mkfs: {mount: {mount_point: /}}}\n      - {name: data, flags: [primary, raid], size: 1MiB}\n");

        var bad = p.Build();

        bad.Succeeded.ShouldBeFalse();
        var error = bad.Errors.ShouldHaveSingleItem(bad.Output);
        (error.Code, error.File, error.LineNumber).ShouldBe(("DIB0229", layout, 7));
        error.Text.ShouldContain("unknown flag 'raid'");

        File.Delete(p.Combine("elements", "never", "root.d", "01-never"));
        File.WriteAllText(layout, "- local_loop: {name: image0, size: 300MiB}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - {name: root, flags: [boot, primary], size: 200MiB, mkfs: {mount: {mount_point: /}}}\n");
        p.Build().Succeeded.ShouldBeTrue();
        Partitions(p.OutputFile("raw"), out _).Single().Size.ShouldBe(409600);
        var built = File.GetLastWriteTimeUtc(p.OutputFile("raw"));
        p.Build().Succeeded.ShouldBeTrue();
        File.GetLastWriteTimeUtc(p.OutputFile("raw")).ShouldBe(built, "nothing changed: nothing is rebuilt");

        File.WriteAllText(layout, File.ReadAllText(layout).Replace("200MiB", "250MiB", StringComparison.Ordinal));
        p.Build().Succeeded.ShouldBeTrue();
        Partitions(p.OutputFile("raw"), out _).Single().Size.ShouldBe(512000);
    }

    private sealed record Part(int Number, long Start, long Size, string Type);

    private static List<Part> Partitions(string raw, out string label)
    {
        using var json = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{raw}'"));
        var pt = json.RootElement.GetProperty("partitiontable");
        label = pt.GetProperty("label").GetString()!;
        return [.. pt.GetProperty("partitions").EnumerateArray().Select(x => new Part(
            int.Parse(x.GetProperty("node").GetString()![raw.Length..], System.Globalization.CultureInfo.InvariantCulture),
            x.GetProperty("start").GetInt64(),
            x.GetProperty("size").GetInt64(),
            x.GetProperty("type").GetString()!))];
    }

    private static string Slice(ImageProject p, string raw, Part part, string name)
    {
        var file = p.Combine($"{name}.part");
        ImageProject.Sh($"dd if='{raw}' of='{file}' bs=512 skip={part.Start} count={part.Size} conv=sparse status=none");
        return file;
    }
}
