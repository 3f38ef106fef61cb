using System.Text.Json;
using DiskImageBuilder.Elements;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The disk stage on the offline busybox tree: layouts, formats, sizes, errors. Fast; needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class DiskTests
{
    private static ImageProject Disk(string properties, bool withBootFiles = true) => ImageProject.Busybox(
        $"<PropertyGroup>{properties}</PropertyGroup>",
        withBootFiles ? """<Element Include="host-grub" />""" : string.Empty);

    /// <summary>The disk's last partition (the root) copied out to a file of its own.</summary>
    private static string RootFileSystem(ImageProject p, string raw)
    {
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{raw}'"));
        var root = table.RootElement.GetProperty("partitiontable").GetProperty("partitions").EnumerateArray().Last();
        var file = p.Combine("root.img");
        ImageProject.Sh($"dd if='{raw}' of='{file}' bs=512 skip={root.GetProperty("start").GetInt64()} count={root.GetProperty("size").GetInt64()} status=none");
        return file;
    }

    [Fact]
    public void Hybrid_disk_in_every_format_from_one_tree_with_checksums()
    {
        using var p = Disk("<ImageFormat>raw;qcow2;vhd;vmdk;tar</ImageFormat><BootMode>hybrid</BootMode><ImageChecksum>sha256;md5</ImageChecksum>");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var raw = p.OutputFile("raw");
        var size = new FileInfo(raw).Length;
        long.Parse(ImageProject.Sh($"stat -c %b '{raw}'").Trim(), System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeLessThan(size / 512 / 4, "the raw image is sparse");

        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{raw}'"));
        var pt = table.RootElement.GetProperty("partitiontable");
        pt.GetProperty("label").GetString().ShouldBe("gpt");
        var parts = pt.GetProperty("partitions").EnumerateArray().ToList();
        parts.Select(x => x.GetProperty("type").GetString()).ShouldBe([
            "21686148-6449-6E6F-744E-656564454649", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"]);
        ImageProject.Sh($"sgdisk -v '{raw}'").ShouldContain("No problems found");

        // The root partition holds an ext4 filesystem with the label and the tree.
        var rootFs = RootFileSystem(p, raw);
        ImageProject.Sh($"e2fsck -fn '{rootFs}'");
        ImageProject.Sh($"e2label '{rootFs}'").Trim().ShouldBe("cloudimg-rootfs");
        ImageProject.Sh($"debugfs -R 'ls -l /bin' '{rootFs}' 2>/dev/null").ShouldContain("busybox");
        ImageProject.Sh($"debugfs -R 'ls /boot/efi' '{rootFs}' 2>/dev/null").ShouldNotContain("EFI", Case.Sensitive, "ESP files live on the ESP");
        var esp = parts[1];
        ImageProject.Sh($"mdir -i '{raw}@@{esp.GetProperty("start").GetInt64() * 512}' ::/EFI/BOOT").ShouldContain("BOOTX64");

        // GRUB's boot.img in sector 0 points at core.img in the BIOS boot partition.
        var sector0 = File.ReadAllBytes(raw).AsSpan(0, 512).ToArray();
        BitConverter.ToUInt64(sector0, 0x5C).ShouldBe((ulong)parts[0].GetProperty("start").GetInt64());
        ((sector0[510] << 8) | sector0[511]).ShouldBe(0x55AA);

        Info(p.OutputFile("qcow2")).GetProperty("format").GetString().ShouldBe("qcow2");
        Info(p.OutputFile("qcow2")).GetProperty("format-specific").GetProperty("data").GetProperty("compression-type").GetString().ShouldBe("zstd");
        Info(p.OutputFile("qcow2")).GetProperty("virtual-size").GetInt64().ShouldBe(size);
        ImageProject.Sh($"qemu-img check '{p.OutputFile("qcow2")}'").ShouldContain("No errors were found");
        // A fixed VHD is the raw disk plus a footer; qemu-img only reads it as vpc when told.
        var vhd = File.ReadAllBytes(p.OutputFile("vhd"));
        System.Text.Encoding.ASCII.GetString(vhd, vhd.Length - 512, 8).ShouldBe("conectix");
        Info(p.OutputFile("vhd"), "vpc").GetProperty("virtual-size").GetInt64().ShouldBe(size);
        Info(p.OutputFile("vmdk")).GetProperty("format").GetString().ShouldBe("vmdk");
        File.Exists(p.OutputFile("tar")).ShouldBeTrue();

        foreach (var ext in (string[])["raw", "qcow2", "vhd", "vmdk", "tar"])
        {
            var line = File.ReadAllText(p.OutputFile(ext) + ".sha256");
            line.ShouldBe(ImageProject.Sh($"cd '{Path.GetDirectoryName(raw)}' && sha256sum '{Path.GetFileName(p.OutputFile(ext))}'").Trim() + "\n");
            File.ReadAllText(p.OutputFile(ext) + ".md5").ShouldStartWith(ImageProject.Sh($"md5sum '{p.OutputFile(ext)}'")[..32]);
        }

        p.Build("-t:Clean").Succeeded.ShouldBeTrue();
        Directory.EnumerateFiles(Path.GetDirectoryName(raw)!).ShouldBeEmpty("clean removes images and checksums");
    }

    [Fact]
    public void A_previous_qcow2_changed_in_place_is_warning_DIB0062_and_the_new_image_matches_the_tree()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageFormat>qcow2;raw</ImageFormat></PropertyGroup>", """<Element Include="host-grub" /><Element Include="note" />""");
        p.Write("elements/note/install.d/50-note", "#!/bin/sh\necho one > /etc/note\n");
        p.Build().Succeeded.ShouldBeTrue();

        // Same size and time, other bytes in its data clusters: what a tool editing the image in place leaves.
        var qcow2 = p.OutputFile("qcow2");
        var time = File.GetLastWriteTimeUtc(qcow2);
        using (var f = new FileStream(qcow2, FileMode.Open, FileAccess.ReadWrite))
        {
            for (var at = f.Length / 2; at < f.Length - 4096; at += 65536)
            {
                f.Position = at;
                f.Write(new byte[512]);
            }
        }

        File.SetLastWriteTimeUtc(qcow2, time);
        p.Write("elements/note/install.d/50-note", "#!/bin/sh\necho two > /etc/note\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        run.Warnings.ShouldContain(w => w.Code == "DIB0062", run.Output);
        ImageProject.Sh($"qemu-img compare -f raw -F qcow2 '{p.OutputFile("raw")}' '{qcow2}'").ShouldContain("Images are identical");
    }

    [Fact]
    public void MkfsOptions_with_extended_options_join_ours_and_the_root_stays_in_its_partition()
    {
        // mke2fs keeps only its last -E: passed as they are, these would drop the partition offset.
        // MaxOnlineResize joins them too (resize=): the root reserves GDT blocks for that size only.
        using var p = Disk("<ImageFormat>raw</ImageFormat><MkfsOptions>-E stride=16 -O ^has_journal -Estripe_width=32</MkfsOptions><MaxOnlineResize>4194304</MaxOnlineResize>");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var rootFs = RootFileSystem(p, p.OutputFile("raw"));
        ImageProject.Sh($"e2fsck -fn '{rootFs}'");
        var super = ImageProject.Sh($"dumpe2fs -h '{rootFs}' 2>/dev/null");
        super.ShouldContain("RAID stride:              16");
        super.ShouldContain("RAID stripe width:        32");
        super.ShouldNotContain("has_journal");
        ImageProject.Sh($"e2label '{rootFs}'").Trim().ShouldBe("cloudimg-rootfs");

        // What mke2fs reserves on a filesystem of the same size with and without resize=.
        string ReservedGdt(string text) => text.Split('\n').Single(l => l.StartsWith("Reserved GDT blocks:", StringComparison.Ordinal));
        var sizeKib = new FileInfo(rootFs).Length / 1024;
        string Reference(string extended)
        {
            var file = p.Combine("reference.img");
            File.Delete(file);
            ImageProject.Sh($"truncate -s {sizeKib}K '{file}' && mke2fs -F -q -t ext4 -O ^has_journal {extended} '{file}' {sizeKib}k");
            return ReservedGdt(ImageProject.Sh($"dumpe2fs -h '{file}' 2>/dev/null"));
        }

        var withResize = Reference("-E resize=4194304");
        withResize.ShouldNotBe(Reference(string.Empty), "the check can tell the two apart");
        ReservedGdt(super).ShouldBe(withResize);
    }

    [Fact]
    public void A_rebuild_starts_mke2fs_with_the_last_sizes_and_remakes_the_root_when_the_tree_grew()
    {
        // The filler's size reaches every phase's key, so each build makes the whole tree again.
        using var p = ImageProject.Busybox("<PropertyGroup><ImageFormat>raw</ImageFormat></PropertyGroup>", """<Element Include="host-grub" /><Element Include="filler" />""");
        // In finalise.d: after block-device.d fixed DIB_IMAGE_SIZE (the disk's least size) from the
        // tree, so a grown filler is growth only the disk stage's own measure finds.
        p.Write("elements/filler/finalise.d/50-filler", "#!/bin/sh\nhead -c \"${DIB_FILLER_BYTES}\" /dev/urandom > /filler\necho \"$DIB_FILLER_NOTE\" > /note\n");
        const string Remade = "the root filesystem is made again";
        long DiskSize() => new FileInfo(p.OutputFile("raw")).Length;
        BuildRun Build(int bytes, string note)
        {
            p.Environment["DIB_FILLER_BYTES"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            p.Environment["DIB_FILLER_NOTE"] = note;
            var run = p.Build();
            run.Succeeded.ShouldBeTrue(run.Output);
            return run;
        }

        Build(1_000_000, "first").Messages.ShouldNotContain(m => m.Contains(Remade, StringComparison.Ordinal));
        var small = DiskSize();

        // Same sizes, other content: the first mke2fs is the one kept.
        Build(1_000_000, "again").Messages.ShouldNotContain(m => m.Contains(Remade, StringComparison.Ordinal));
        DiskSize().ShouldBe(small);

        // 40 MB more: the last build's sizes no longer fit, so the root is made again for the new ones.
        Build(41_000_000, "grown").Messages.ShouldContain(m => m.Contains(Remade, StringComparison.Ordinal));
        var grown = DiskSize();
        grown.ShouldBeGreaterThan(small + (40L << 20));
        var rootFs = RootFileSystem(p, p.OutputFile("raw"));
        ImageProject.Sh($"e2fsck -fn '{rootFs}'");
        ImageProject.Sh($"debugfs -R 'stat /filler' '{rootFs}' 2>/dev/null").ShouldContain("Size: 41000000");

        // With no record of a last build, the disk comes out the same size: speculation never changes the image.
        Directory.Delete(p.Combine("cache", "disk-usage"), recursive: true);
        Build(41_000_000, "cold").Messages.ShouldNotContain(m => m.Contains(Remade, StringComparison.Ordinal));
        DiskSize().ShouldBe(grown);

        // A damaged record counts as none.
        foreach (var record in Directory.EnumerateFiles(p.Combine("cache", "disk-usage")))
        {
            File.WriteAllText(record, "-5 -5");
        }

        Build(41_000_000, "damaged record").Messages.ShouldNotContain(m => m.Contains(Remade, StringComparison.Ordinal));
        DiskSize().ShouldBe(grown);
    }

    [Fact]
    public void Bios_layout_is_one_bootable_MBR_partition_and_ImageSize_sets_the_disk()
    {
        using var p = Disk("<ImageFormat>raw</ImageFormat><ImageSize>300M</ImageSize><ImageCompress>false</ImageCompress>");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        new FileInfo(p.OutputFile("raw")).Length.ShouldBe(300L * 1024 * 1024);
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{p.OutputFile("raw")}'"));
        var pt = table.RootElement.GetProperty("partitiontable");
        pt.GetProperty("label").GetString().ShouldBe("dos");
        var part = pt.GetProperty("partitions").EnumerateArray().ShouldHaveSingleItem();
        part.GetProperty("start").GetInt64().ShouldBe(2048);
        part.GetProperty("bootable").GetBoolean().ShouldBeTrue();
        part.GetProperty("type").GetString().ShouldBe("83");
        BitConverter.ToUInt64(File.ReadAllBytes(p.OutputFile("raw")), 0x5C).ShouldBe(1UL, "core.img right after the MBR");
    }

    [Fact]
    public void Boot_target_builds_then_starts_the_image_in_qemu()
    {
        using var p = Disk("<ImageFormat>qcow2</ImageFormat><BootTimeout>20</BootTimeout>");

        var run = p.Build("-t:Boot");

        run.Succeeded.ShouldBeTrue(run.Output);
        run.Ran("CreateImage").ShouldBeTrue("Boot builds first");
        run.Messages.ShouldContain(m => m.Contains("Booting from Hard Disk", StringComparison.Ordinal), "SeaBIOS on the serial console");
        run.Messages.ShouldContain("DiskImageBuilder: stopped the VM after BootTimeout=20 s");
        Processes.Matching(p.OutputFile("qcow2")).ShouldBeEmpty("the VM is gone");
    }

    [Fact]
    public void Xfs_root_gets_its_short_label_and_leaves_no_loop_device()
    {
        using var p = Disk("<ImageFormat>raw</ImageFormat><RootFileSystem>xfs</RootFileSystem>");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var raw = p.OutputFile("raw");
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{raw}'"));
        var root = table.RootElement.GetProperty("partitiontable").GetProperty("partitions")[0];
        var probe = ImageProject.Sh($"blkid -p -O {root.GetProperty("start").GetInt64() * 512} '{raw}'");
        probe.ShouldContain("TYPE=\"xfs\"");
        probe.ShouldContain("LABEL=\"img-rootfs\"");
        ImageProject.Sh("losetup -a").ShouldNotContain(p.Dir);
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Theory]
    [InlineData("xfs")]
    [InlineData("ext4")]
    public void A_disk_restored_from_snapshots_on_another_filesystem_than_the_work_folder_is_sized_for_its_whole_tree(string fsType)
    {
        // The image cache on a filesystem of its own (a tmpfs here), the project in /tmp: the
        // restored tree is an overlay of layers from another filesystem than the outputs', and
        // its size must still be that of every file (du -x of such an overlay counts folders only).
        using var p = ImageProject.Busybox(
            $"<PropertyGroup><ImageFormat>raw</ImageFormat><RootFileSystem>{fsType}</RootFileSystem></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="filler" />""");
        p.Write("elements/filler/install.d/50-filler", "#!/bin/sh\nhead -c 330000000 /dev/urandom > /filler\n");
        var cache = p.Combine("cache");
        Directory.CreateDirectory(cache);
        ImageProject.Sh($"mount -t tmpfs dib-test-cache '{cache}'");
        try
        {
            var cold = p.Build();
            cold.Succeeded.ShouldBeTrue(cold.Output);
            Directory.Delete(p.Combine("obj"), recursive: true);
            Directory.Delete(p.Combine("bin"), recursive: true);

            var run = p.Build();

            run.Succeeded.ShouldBeTrue(run.Output);
            run.Messages.ShouldContain(m => m.Contains("every phase restored", StringComparison.Ordinal));
            new FileInfo(p.OutputFile("raw")).Length.ShouldBeGreaterThan(330_000_000L);
        }
        finally
        {
            ImageProject.Sh($"umount '{cache}'");
        }
    }

    [Fact]
    public void Default_format_is_qcow2()
    {
        using var p = new ImageProject($"""
              <PropertyGroup><ElementsPath>{Repo.TestElements}</ElementsPath><SkipBaseElement>true</SkipBaseElement></PropertyGroup>
              <ItemGroup><Element Include="busybox-tree" /><Element Include="host-grub" /></ItemGroup>
            """);
        p.Build().Succeeded.ShouldBeTrue();
        File.Exists(p.OutputFile("qcow2")).ShouldBeTrue();
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", false)]
    public void The_tree_is_built_and_the_disk_assembled_in_RAM_unless_DIB_NO_TMPFS(string? noTmpfs, bool inMemory)
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageFormat>qcow2</ImageFormat></PropertyGroup>", """<Element Include="host-grub" />""");
        if (noTmpfs is not null)
        {
            p.Environment["DIB_NO_TMPFS"] = noTmpfs;
        }

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        run.Messages.Any(m => m.Contains("(disk assembled in RAM)", StringComparison.Ordinal)).ShouldBe(inMemory);
        run.Messages.Any(m => m.Contains("each phase writes its changes in RAM", StringComparison.Ordinal)).ShouldBe(inMemory);
        ImageProject.Sh($"qemu-img check '{p.OutputFile("qcow2")}'").ShouldContain("No errors were found");
    }

    [Fact]
    public void No_kernel_is_an_error_saying_which_element_installs_one()
    {
        using var p = Disk("<ImageFormat>qcow2</ImageFormat>", withBootFiles: false);
        var e = p.Build().Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe("DIB0212");
        e.Text.ShouldContain("'debian' element installs one");
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void Uefi_without_GRUB_EFI_files_is_an_error()
    {
        using var p = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>raw</ImageFormat><BootMode>uefi</BootMode></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="no-efi" />""");
        p.Write("elements/no-efi/cleanup.d/10-drop-efi", "#!/bin/sh\nrm -rf \"$TARGET_ROOT/boot/efi/EFI\"\n");
        var run = p.Build();
        var e = run.Errors.ShouldHaveSingleItem(run.Output);
        e.Code.ShouldBe("DIB0211");
        e.Text.ShouldContain("BOOTX64.EFI");
        File.Exists(p.OutputFile("raw")).ShouldBeFalse();
    }

    [Fact]
    public void Image_size_too_small_says_how_much_is_needed()
    {
        using var p = Disk("<ImageFormat>raw</ImageFormat><ImageSize>20M</ImageSize>");
        var e = p.Build().Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe("DIB0213");
        e.Text.ShouldContain("needs a disk of at least");
        e.File.ShouldBe(p.ProjectFile);
    }

    private const string GptBiosLayout = """

        - local_loop: {name: image0}
        - partitioning:
            base: image0
            label: gpt
            partitions:
              - {name: BSP, type: EF02, size: 1MiB}
              - {name: root, size: 100%, mkfs: {type: ext4, mount: {mount_point: /, fstab: {}}}}

        """;

    private const string MbrLayout = """

        - local_loop: {name: image0}
        - partitioning:
            base: image0
            label: mbr
            partitions:
              - {name: root, flags: [boot, primary], size: 100%, mkfs: {type: ext4, mount: {mount_point: /, fstab: {}}}}

        """;

    [Theory]
    [InlineData("<BootMode>bios</BootMode><ImageSize>3T</ImageSize>", "DIB0048", "MBR partition table can address (2 TiB)")]
    [InlineData("<BootMode>uefi</BootMode><ImageSize>2000000T</ImageSize>", "DIB0048", "ext4 root filesystem can be (1 EiB)")]
    [InlineData("<BootMode>uefi</BootMode><ImageSize>100T</ImageSize>", "DIB0049", "cannot hold a disk file that large (Specified file length was too large")]
    // A configured layout's own table counts: GPT with only a BIOS boot partition is no MBR disk (past 2 TiB the host's limit is what fails).
    [InlineData("<ImageSize>100T</ImageSize><BlockDeviceConfig>" + GptBiosLayout + "</BlockDeviceConfig>", "DIB0049", "cannot hold a disk file that large")]
    [InlineData("<ImageSize>3T</ImageSize><BlockDeviceConfig>" + MbrLayout + "</BlockDeviceConfig>", "DIB0048", "MBR partition table can address (2 TiB)")]
    public void An_ImageSize_beyond_the_partition_tables_the_filesystems_or_the_hosts_limit_is_a_coded_error_before_any_phase(string properties, string code, string says)
    {
        // The host's limit: this machine builds on ext4, which holds files up to 16 TiB.
        ImageProject.Sh("stat -f -c %T /tmp").Trim().ShouldBe("ext2/ext3", "the DIB0049 case needs a host filesystem with a file size limit below 100 TiB");
        using var p = Disk($"<ImageFormat>qcow2</ImageFormat>{properties}");

        var run = p.Build();

        var e = run.Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe(code, run.Output);
        e.Text.ShouldContain(says);
        e.File.ShouldBe(p.ProjectFile);
        run.Output.ShouldNotContain("DiskImageBuilder: root.d", customMessage: "no phase ran");
        Directory.EnumerateFileSystemEntries(p.Dir, ".dib-size-probe-*", SearchOption.AllDirectories).ShouldBeEmpty();
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Theory]
    [InlineData("<BootMode>floppy</BootMode>", "DIB0021")]
    [InlineData("<ImageSize>big</ImageSize>", "DIB0021")]
    [InlineData("<ImageChecksum>crc</ImageChecksum>", "DIB0021")]
    [InlineData("<RootFileSystem>btrfs</RootFileSystem>", "DIB0021")]
    [InlineData("<RootFileSystem>xfs</RootFileSystem><RootLabel>cloudimg-rootfs</RootLabel>", "DIB0021")]
    public void Bad_disk_properties_are_coded_errors_before_any_work(string properties, string code)
    {
        using var p = Disk($"<ImageFormat>raw</ImageFormat>{properties}");
        var run = p.Build();
        run.Errors.ShouldHaveSingleItem().Code.ShouldBe(code);
        run.Ran("CreateImage").ShouldBeFalse();
    }

    private static JsonElement Info(string image, string? format = null) =>
        JsonDocument.Parse(ImageProject.Sh($"qemu-img info --output=json {(format is null ? string.Empty : "-f " + format)} '{image}'")).RootElement.Clone();
}
