using System.Security.Cryptography;
using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Each filesystem type made from a small tree into a disk file without a mount, read back with
/// the type's own tools (blkid -p, dumpe2fs, debugfs, xfs_db, mdir/mcopy, swaplabel) and, for
/// content, a read-only mount in a private namespace compared with the tree. Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class FileSystemMakerTests
{
    private const long MiB = 1024 * 1024;
    private const long Offset = 3 * MiB;
    private static readonly Guid Uuid = Guid.Parse("6f0d3b59-0c7e-4e51-9a43-1d2b4e5f6a70");

    [Theory]
    [InlineData("ext2", "", "^has_journal")]
    [InlineData("ext3", "has_journal", "extent")]
    [InlineData("ext4", "extent", "")]
    public void Ext_types_are_written_at_their_offset_with_label_uuid_and_the_whole_tree(string type, string feature, string notFeature)
    {
        using var dir = new TempDir();
        var tree = Tree(dir, protofileSafe: false);
        var size = FileSystemMaker.RequiredSize(type, tree.Bytes, tree.Inodes);
        var disk = Disk(dir, Offset + size + MiB);

        FileSystemMaker.Make(new FileSystemSpec(type, "data-" + type, Uuid, "-m 1"), tree, disk, [new DiskExtent(Offset, size)], dir.Combine("work"), new RecordingLog(), CancellationToken.None);

        Probe(disk, Offset).ShouldBe($"LABEL=data-{type} TYPE={type} UUID={Uuid}");
        var copy = Extract(dir, disk, Offset, size);
        var header = ImageProject.Sh($"dumpe2fs -h '{copy}' 2>/dev/null");
        header.ShouldContain("Reserved block count:");
        var features = header.Split('\n').Single(l => l.StartsWith("Filesystem features:", StringComparison.Ordinal));
        if (feature != "")
        {
            features.ShouldContain(feature);
        }

        if (notFeature != "")
        {
            features.ShouldNotContain(notFeature.TrimStart('^'));
        }

        // The user's opts reach mke2fs: 1% reserved, not 5%.
        var blocks = Field(header, "Block count:");
        Field(header, "Reserved block count:").ShouldBeLessThanOrEqualTo((blocks / 100) + 1);
        ImageProject.Sh($"debugfs -R 'stat /dev/loop7' '{copy}' 2>/dev/null").ShouldContain("Device major/minor number: 07:07");
        ImageProject.Sh($"debugfs -R 'stat /usr/bin/tool' '{copy}' 2>/dev/null").ShouldContain("Links: 2");
        SampleTree.ListingOfImage(disk, Offset, size).ShouldBe(SampleTree.Listing(tree.Directory));
    }

    [Fact]
    public void Xfs_is_made_from_a_protofile_without_a_mount_when_the_tree_fits_one()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, protofileSafe: true);
        var size = FileSystemMaker.RequiredSize("xfs", tree.Bytes, tree.Inodes);
        var disk = Disk(dir, Offset + size);
        var log = new RecordingLog();

        FileSystemMaker.Make(new FileSystemSpec("xfs", "xfs-data", Uuid), tree, disk, [new DiskExtent(Offset, size)], dir.Combine("work"), log, CancellationToken.None);

        log.Messages.ShouldNotContain(m => m.Text.Contains("private mount"));
        Probe(disk, Offset).ShouldBe($"LABEL=xfs-data TYPE=xfs UUID={Uuid}");
        var copy = Extract(dir, disk, Offset, size);
        var sb = ImageProject.Sh($"xfs_db -r -c 'sb 0' -c 'p fname uuid' -c 'path /usr/bin/tool' -c 'p core.mode core.uid' '{copy}'");
        sb.ShouldContain("fname = \"xfs-data\\000\\000\\000\\000\"");
        sb.ShouldContain($"uuid = {Uuid}");
        sb.ShouldContain("core.mode = 0104755");
        ImageProject.Sh($"xfs_db -r -c 'path /dev/loop7' -c 'p core.mode u3.dev' '{copy}'").ShouldContain("core.mode = 060660");
        ImageProject.Sh($"xfs_db -r -c 'path /var/tmp' -c 'p core.mode' '{copy}'").ShouldContain("core.mode = 041777"); // set by xfs_db after the mkfs
        ImageProject.Sh($"xfs_repair -n '{copy}' >/dev/null 2>&1 && echo clean").Trim().ShouldBe("clean");

        // A protofile stamps every file with the time of the mkfs: everything else is the tree's.
        SampleTree.ListingOfImage(disk, Offset, size, times: false).ShouldBe(SampleTree.Listing(tree.Directory, times: false));
        Directory.EnumerateFileSystemEntries(dir.Combine("work")).ShouldBeEmpty();
    }

    [Fact]
    public void Xfs_of_a_tree_with_hard_links_or_xattrs_is_filled_through_a_private_mount()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, protofileSafe: false);
        var disk = Disk(dir, Offset + FileSystems.XfsMinimum);
        var log = new RecordingLog();

        FileSystemMaker.Make(new FileSystemSpec("xfs", "xfs-full", Uuid), tree, disk, [new DiskExtent(Offset, FileSystems.XfsMinimum)], dir.Combine("work"), log, CancellationToken.None);

        log.Messages.ShouldContain(m => m.Text.Contains("private mount") && m.Text.Contains("xfs-full"));
        Probe(disk, Offset).ShouldBe($"LABEL=xfs-full TYPE=xfs UUID={Uuid}");
        SampleTree.ListingOfImage(disk, Offset, FileSystems.XfsMinimum).ShouldBe(SampleTree.Listing(tree.Directory));
        File.ReadAllText("/proc/self/mountinfo").ShouldNotContain(dir.Path);
    }

    [Fact]
    public void Xfs_through_a_private_mount_too_small_for_its_tree_says_so_with_the_measured_size()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, protofileSafe: false);
        ImageProject.Sh($"head -c 330000000 /dev/urandom > '{tree.Directory}/big'");
        var disk = Disk(dir, Offset + FileSystems.XfsMinimum);

        var d = Should.Throw<DibException>(() => FileSystemMaker.Make(new FileSystemSpec("xfs", "xfs-small", Uuid), tree, disk, [new DiskExtent(Offset, FileSystems.XfsMinimum)], dir.Combine("work"), new RecordingLog(), CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();

        d.Code.ShouldBe("DIB0210");
        d.Message.ShouldMatch(@"of 300 MiB could not hold its tree \(31\d MiB measured\)");
        d.Message.ShouldContain("No space left on device");
        File.ReadAllText("/proc/self/mountinfo").ShouldNotContain(dir.Path);
    }

    [Fact]
    public void The_protofile_says_why_a_tree_cannot_be_one()
    {
        using var dir = new TempDir();
        SampleTree.Fill(dir.Combine("t"), protofileSafe: true);
        var proto = dir.Combine("p");
        var sticky = new List<(string Path, int Mode)>();
        XfsProtofile.Write(dir.Combine("t"), proto, sticky, CancellationToken.None).ShouldBeNull();
        sticky.OrderBy(s => s.Path, StringComparer.Ordinal).ShouldBe([("/tmp", Convert.ToInt32("41777", 8)), ("/var/tmp", Convert.ToInt32("41777", 8))]);
        XfsProtofile.StickyFixups(sticky.Take(1)).ShouldBe(["-c", "path /tmp", "-c", "write core.mode 041777"]);
        var text = File.ReadAllText(proto);
        text.ShouldContain(" tool -u-755 0 0 " + dir.Combine("t", "usr", "bin", "tool") + "\n");
        text.ShouldContain(" loop7 b--660 0 6 7 7\n");
        text.ShouldContain(" initctl p--644 0 0\n");
        text.ShouldContain(" opt d-g775 0 50\n");
        text.ShouldContain(" libx.so l--777 0 0 libx.so.1\n");
        text.ShouldContain(" tmp d--777 0 0\n");

        foreach (var (make, why) in new[]
        {
            ("ln t/etc/hostname t/etc/hostname2", "hard link"),
            ("python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"t/run/sock\")'", "socket"),
            ("setfattr -n user.x -v 1 t/etc/hostname", "extended attributes"),
            ("touch 't/etc/a b'", "white space"),
            ("ln -s 'a:b' t/etc/colon", "':'"),
        })
        {
            using var case_ = new TempDir();
            SampleTree.Fill(case_.Combine("t"), protofileSafe: true);
            ImageProject.Sh($"cd '{case_.Path}' && {make}");
            XfsProtofile.Write(case_.Combine("t"), case_.Combine("p"), [], CancellationToken.None).ShouldNotBeNull().ShouldContain(why);
            File.Exists(case_.Combine("p")).ShouldBeFalse();
        }
    }

    [Fact]
    public void Vfat_gets_the_upper_cased_label_a_volume_id_from_the_uuid_and_the_files()
    {
        using var dir = new TempDir();
        var content = dir.Combine("esp");
        dir.Write("esp/EFI/BOOT/BOOTX64.EFI", "efi binary");
        dir.Write("esp/EFI/debian/grub.cfg", "search --label root");
        var tree = new FileSystemTree("/boot/efi", content, 8192, 6);
        var size = FileSystemMaker.RequiredSize("vfat", tree.Bytes, tree.Inodes);
        var disk = Disk(dir, Offset + size);

        FileSystemMaker.Make(new FileSystemSpec("fat", "efi-part", Uuid), tree, disk, [new DiskExtent(Offset, size)], dir.Combine("work"), new RecordingLog(), CancellationToken.None);

        Probe(disk, Offset).ShouldBe("LABEL=EFI-PART TYPE=vfat UUID=6F0D-3B59");
        ImageProject.Sh($"mdir -i '{disk}@@{Offset}' ::/EFI/BOOT").ShouldContain("BOOTX64  EFI");
        ImageProject.Sh($"mtype -i '{disk}@@{Offset}' ::/EFI/debian/grub.cfg").Trim().ShouldBe("search --label root");
    }

    [Fact]
    public void Swap_gets_its_label_and_uuid_and_ignores_content()
    {
        using var dir = new TempDir();
        var size = FileSystemMaker.RequiredSize("swap", 8 * MiB, 0);
        var disk = Disk(dir, Offset + size);

        FileSystemMaker.Make(new FileSystemSpec("swap", "swap1", Uuid), null, disk, [new DiskExtent(Offset, size)], dir.Combine("work"), new RecordingLog(), CancellationToken.None);

        Probe(disk, Offset).ShouldBe($"LABEL=swap1 TYPE=swap UUID={Uuid}");
        var copy = Extract(dir, disk, Offset, size);
        ImageProject.Sh($"swaplabel '{copy}'").ShouldContain($"UUID:  {Uuid}");
        ImageProject.Sh($"swaplabel '{copy}'").ShouldContain("LABEL: swap1");
    }

    [Fact]
    public void A_filesystem_over_two_extents_reads_back_byte_identical_and_leaves_the_gap_alone()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, protofileSafe: false);
        var size = FileSystemMaker.RequiredSize("ext4", tree.Bytes, tree.Inodes);
        var first = new DiskExtent(Offset, 5 * MiB);
        var second = new DiskExtent(Offset + (9 * MiB), size - first.Length);
        var disk = Disk(dir, second.Offset + second.Length + MiB);
        ImageProject.Sh($"printf 'GAP-MARKER' | dd of='{disk}' bs=1 seek={Offset + (7 * MiB)} conv=notrunc status=none");
        var file = dir.Combine("fs.ext4");
        FileSystemMaker.MakeFile(new FileSystemSpec("ext4", "split", Uuid), tree, file, size, dir.Combine("work"), new RecordingLog(), CancellationToken.None);

        ExtentCopy.Place(file, disk, [first, second], CancellationToken.None);

        var placed = dir.Combine("placed");
        ImageProject.Sh($"{{ dd if='{disk}' bs=1M skip={first.Offset / MiB} count={first.Length / MiB} status=none; dd if='{disk}' bs=1M skip={second.Offset / MiB} count={second.Length / MiB} status=none; }} > '{placed}'");
        Hash(placed).ShouldBe(Hash(file));
        ImageProject.Sh($"dd if='{disk}' bs=1 skip={Offset + (7 * MiB)} count=10 status=none").ShouldBe("GAP-MARKER");
        Probe(placed, 0).ShouldBe($"LABEL=split TYPE=ext4 UUID={Uuid}");

        // Zero blocks are skipped: the disk stays sparse.
        long.Parse(ImageProject.Sh($"du -B1 '{disk}' | cut -f1").Trim(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeLessThan(size);

        // And through Make, which makes the file and places it the same way.
        var disk2 = Disk(dir, second.Offset + second.Length + MiB, "disk2");
        FileSystemMaker.Make(new FileSystemSpec("ext4", "split", Uuid), tree, disk2, [first, second], dir.Combine("work"), new RecordingLog(), CancellationToken.None);
        var placed2 = dir.Combine("placed2");
        ImageProject.Sh($"{{ dd if='{disk2}' bs=1M skip={first.Offset / MiB} count={first.Length / MiB} status=none; dd if='{disk2}' bs=1M skip={second.Offset / MiB} count={second.Length / MiB} status=none; }} > '{placed2}'");
        ImageProject.Sh($"e2fsck -fn '{placed2}' >/dev/null 2>&1 && echo clean").Trim().ShouldBe("clean");
        SampleTree.ListingOfImage(placed2, 0, size).ShouldBe(SampleTree.Listing(tree.Directory));
    }

    [Fact]
    public void Content_too_large_for_its_filesystem_is_DIB0210_naming_the_filesystem_and_the_size_it_needs()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, protofileSafe: true) with { MountPoint = "/var" };
        var disk = Disk(dir, Offset + (2 * MiB));

        var d = Should.Throw<DibException>(() => FileSystemMaker.Make(new FileSystemSpec("ext4", "var", Uuid), tree, disk, [new DiskExtent(Offset, 2 * MiB)], dir.Combine("work"), new RecordingLog(), CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();

        d.Code.ShouldBe("DIB0210");
        d.Message.ShouldContain("filesystem /var (ext4, label 'var', 2 MiB;");
        d.Message.ShouldContain($"needs about {FileSystemMaker.RequiredSize("ext4", tree.Bytes, tree.Inodes) / MiB} MiB");
        d.Message.ShouldContain("mke2fs");
    }

    [Fact]
    public void A_filesystem_larger_than_its_extents_is_DIB0244()
    {
        using var dir = new TempDir();
        var file = dir.Combine("fs");
        File.WriteAllBytes(file, new byte[3 * 4096]);
        var disk = Disk(dir, 16 * MiB);
        var d = Should.Throw<DibException>(() => ExtentCopy.Place(file, disk, [new DiskExtent(MiB, 4096), new DiskExtent(4 * MiB, 4096)], CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0244");
        d.Message.ShouldContain("12288 bytes");
        d.Message.ShouldContain("8192 bytes");
    }

    private static FileSystemTree Tree(TempDir dir, bool protofileSafe)
    {
        var path = dir.Combine("tree");
        SampleTree.Fill(path, protofileSafe);
        var (bytes, inodes) = FileSystems.Usage(path, CancellationToken.None);
        return new FileSystemTree("/", path, bytes, inodes);
    }

    private static string Disk(TempDir dir, long size, string name = "disk.raw")
    {
        var disk = dir.Combine(name);
        using var f = File.Create(disk);
        f.SetLength(size);
        return disk;
    }

    private static string Extract(TempDir dir, string disk, long offset, long size)
    {
        var copy = dir.Combine("extracted");
        ImageProject.Sh($"dd if='{disk}' of='{copy}' bs=1M skip={offset / MiB} count={size / MiB} status=none");
        return copy;
    }

    /// <summary>blkid's low-level probe at an offset: "LABEL=… TYPE=… UUID=…".</summary>
    private static string Probe(string disk, long offset) =>
        string.Join(' ', ImageProject.Sh($"blkid -p -O {offset} -o export -s LABEL -s TYPE -s UUID '{disk}'").Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("DEVNAME=", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

    private static long Field(string header, string name) =>
        long.Parse(header.Split('\n').Single(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static string Hash(string file)
    {
        using var s = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(s));
    }
}
