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
        var tree = Tree(dir, plain: false);
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
    public void Xfs_with_a_file_larger_than_an_allocation_group_reads_back_whole_and_clean()
    {
        // mkfs.xfs -p (xfsprogs 6.1) maps such a file with one short extent and writes the rest
        // over the next allocation group's headers: the filesystem must not come from a protofile.
        using var dir = new TempDir();
        var tree = Tree(dir, plain: true);
        ImageProject.Sh($"head -c 330000000 /dev/urandom > '{tree.Directory}/big'");
        var (bytes, inodes) = FileSystems.Usage(tree.Directory, CancellationToken.None);
        var size = FileSystemMaker.RequiredSize("xfs", bytes, inodes);
        var disk = Disk(dir, Offset + size);

        FileSystemMaker.Make(new FileSystemSpec("xfs", "xfs-big", Uuid), tree with { Bytes = bytes, Inodes = inodes }, disk, [new DiskExtent(Offset, size)], dir.Combine("work"), new RecordingLog(), CancellationToken.None);

        Probe(disk, Offset).ShouldBe($"LABEL=xfs-big TYPE=xfs UUID={Uuid}");
        var copy = Extract(dir, disk, Offset, size);
        ImageProject.Sh($"xfs_repair -n '{copy}' >/dev/null 2>&1 && echo clean").Trim().ShouldBe("clean");
        SampleTree.ListingOfImage(disk, Offset, size).ShouldBe(SampleTree.Listing(tree.Directory));
        File.ReadAllText("/proc/self/mountinfo").ShouldNotContain(dir.Path);
    }

    [Fact]
    public void Xfs_of_a_tree_with_hard_links_or_xattrs_is_filled_through_a_private_mount()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, plain: false);
        var disk = Disk(dir, Offset + FileSystems.XfsMinimum);
        var log = new RecordingLog();

        FileSystemMaker.Make(new FileSystemSpec("xfs", "xfs-full", Uuid), tree, disk, [new DiskExtent(Offset, FileSystems.XfsMinimum)], dir.Combine("work"), log, CancellationToken.None);

        Probe(disk, Offset).ShouldBe($"LABEL=xfs-full TYPE=xfs UUID={Uuid}");
        SampleTree.ListingOfImage(disk, Offset, FileSystems.XfsMinimum).ShouldBe(SampleTree.Listing(tree.Directory));
        File.ReadAllText("/proc/self/mountinfo").ShouldNotContain(dir.Path);
    }

    [Fact]
    public void Xfs_through_a_private_mount_too_small_for_its_tree_says_so_with_the_measured_size()
    {
        using var dir = new TempDir();
        var tree = Tree(dir, plain: false);
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
        var tree = Tree(dir, plain: false);
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
        var tree = Tree(dir, plain: true) with { MountPoint = "/var" };
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

    private static FileSystemTree Tree(TempDir dir, bool plain)
    {
        var path = dir.Combine("tree");
        SampleTree.Fill(path, plain);
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
