using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The pure parts of a layout's filesystems: fstab text as DIB writes it, the split's order, sizes and names.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class FileSystemLayoutTests
{
    private static readonly Guid Uuid = Guid.Parse("2d3f3a0e-6c41-4b7a-9d7e-3f6a0c1b2e4d");

    [Fact]
    public void Fstab_lists_mount_entries_by_mount_point_by_label_with_DIBs_defaults_and_swap_as_sw()
    {
        var text = Fstab.Render([
            Fstab.Entry("/var/log", "xfs", "varlog", Uuid),
            Fstab.Entry("/boot/efi", "vfat", "ESP", Uuid, fsckPassno: 1),
            Fstab.Entry("/", "ext4", "cloudimg-rootfs", Uuid, "errors=remount-ro", fsckPassno: 1),
            Fstab.Entry("none", "swap", "swap1", Uuid, "defaults,nofail", 1, 2),
            Fstab.Entry("/var", "ext4", null, Uuid, " nodev,nosuid ", dumpFreq: 1),
            Fstab.Entry("/boot", "ext2", "boot", Uuid),
        ]);

        text.ShouldBe(
            "LABEL=cloudimg-rootfs / ext4 errors=remount-ro 0 1\n"
            + "LABEL=boot /boot ext2 defaults 0 2\n"
            + "LABEL=ESP /boot/efi vfat defaults 0 1\n"
            + $"UUID={Uuid} /var ext4 nodev,nosuid 1 2\n"
            + "LABEL=varlog /var/log xfs defaults 0 2\n"
            + "LABEL=swap1 none swap sw 0 0\n"); // DIB's swap mount point is "none": after every path
    }

    [Fact]
    public void Fstab_replaces_the_trees_fstab_and_a_symlink_there_is_replaced_not_followed()
    {
        using var dir = new TempDir();
        var outside = dir.Write("outside", "keep\n");
        var tree = Directory.CreateDirectory(dir.Combine("tree", "etc")).Parent!.FullName;
        File.CreateSymbolicLink(Path.Combine(tree, "etc", "fstab"), outside);

        var path = Fstab.WriteInto(tree, "LABEL=root / ext4 defaults 0 1\n");

        File.ReadAllText(outside).ShouldBe("keep\n");
        new FileInfo(path).LinkTarget.ShouldBeNull();
        File.ReadAllText(path).ShouldBe("LABEL=root / ext4 defaults 0 1\n");
        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    [Fact]
    public void The_split_takes_the_deepest_mount_points_first_and_the_root_last()
    {
        TreeSplit.Order(["/", "/boot", "/var/", "/boot/efi", "/var/log", "/home", "//tmp"])
            .ShouldBe(["/boot/efi", "/var/log", "/boot", "/home", "/tmp", "/var", "/"]);
    }

    [Theory]
    [InlineData("var")]
    [InlineData("/var/../etc")]
    [InlineData("/./var")]
    [InlineData("/var/")] // "/var" twice
    public void A_relative_dotted_or_repeated_mount_point_is_DIB0240(string mountPoint)
    {
        var location = new SourceLocation("layout.yaml", 12);
        var d = Should.Throw<DibException>(() => TreeSplit.Order(["/", "/var", mountPoint], location)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0240");
        d.Message.ShouldContain(mountPoint);
        d.Location.ShouldBe(location);
    }

    [Fact]
    public void A_layout_without_a_root_filesystem_is_DIB0240()
    {
        Should.Throw<DibException>(() => TreeSplit.Order(["/boot", "/var"])).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0240");
    }

    [Theory]
    [InlineData("btrfs")]
    [InlineData("")]
    public void An_unknown_filesystem_type_is_DIB0242(string type)
    {
        var d = Should.Throw<DibException>(() => FileSystemMaker.NormalizeType(type, new SourceLocation("layout.yaml", 3))).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0242");
        d.Message.ShouldContain("ext2, ext3, ext4, xfs, vfat, swap");
    }

    [Fact]
    public void Fat_is_vfat_whose_label_is_upper_cased_and_whose_volume_id_comes_from_the_uuid()
    {
        FileSystemMaker.NormalizeType(" FAT ").ShouldBe("vfat");
        FileSystemMaker.EffectiveLabel(new FileSystemSpec("fat", "efi-part", Uuid)).ShouldBe("EFI-PART");
        FileSystemMaker.EffectiveLabel(new FileSystemSpec("ext4", "Root", Uuid)).ShouldBe("Root");
        FileSystemMaker.VolumeId(Uuid).ShouldBe("2D3F3A0E");
    }

    [Theory]
    [InlineData("xfs", 299 * 1024 * 1024L)]
    [InlineData("vfat", 512 * 1024L)]
    [InlineData("swap", 36 * 1024L)]
    [InlineData("swap", (1024 * 1024L) + 512)]
    [InlineData("ext4", 512 * 1024L)]
    public void A_size_the_type_cannot_have_is_DIB0243_naming_the_filesystem(string type, long size)
    {
        var d = Should.Throw<DibException>(() => FileSystemMaker.CheckSize(new FileSystemSpec(type, "data", Uuid), size, "/srv")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0243");
        d.Message.ShouldContain("/srv");
        d.Message.ShouldContain(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Required_sizes_grow_with_content_and_keep_each_types_minimum()
    {
        const long MiB = 1024 * 1024;
        FileSystemMaker.RequiredSize("xfs", 10 * MiB, 100).ShouldBe(300 * MiB);
        FileSystemMaker.RequiredSize("xfs", 1024 * MiB, 50_000).ShouldBeGreaterThan(1126 * MiB);
        FileSystemMaker.RequiredSize("swap", (10 * MiB) + 1, 0).ShouldBe((10 * MiB) + 4096);
        FileSystemMaker.RequiredSize("swap", 1, 0).ShouldBe(40 * 1024);
        FileSystemMaker.RequiredSize("vfat", 0, 0).ShouldBe(MiB);
        FileSystemMaker.RequiredSize("vfat", 10 * MiB, 1000).ShouldBeGreaterThan(15 * MiB); // a cluster per file
        var ext2 = FileSystemMaker.RequiredSize("ext2", 100 * MiB, 1000);
        var ext4 = FileSystemMaker.RequiredSize("ext4", 100 * MiB, 1000);
        ext2.ShouldBeGreaterThan(110 * MiB);
        (ext4 - ext2).ShouldBeGreaterThanOrEqualTo(4 * MiB); // ext4's journal
        (ext4 % MiB).ShouldBe(0);
        FileSystemMaker.RequiredSize("ext4", 200 * MiB, 100_000).ShouldBeGreaterThan(FileSystemMaker.RequiredSize("ext4", 200 * MiB, 1000));
    }
}
