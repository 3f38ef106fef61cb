using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The finished tree split into one folder per filesystem of a layout with nested mount points:
/// each subtree whole (owners, modes, xattrs, hard links, devices, symlinks, times), the parents
/// keeping empty mount point directories. Needs root (owners, device nodes).
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class TreeSplitTests
{
    [Fact]
    public void Each_mount_point_takes_its_subtree_deepest_first_and_the_root_keeps_empty_mount_points()
    {
        using var dir = new TempDir();
        var tree = dir.Combine("tree");
        SampleTree.Fill(tree);
        SampleTree.Fill(dir.Combine("log-content"));
        ImageProject.Sh($"""
            set -e; cd '{tree}'
            mkdir -p boot/efi/EFI/BOOT boot/grub && printf k > boot/vmlinuz-6.1 && printf e > boot/efi/EFI/BOOT/BOOTX64.EFI
            chmod 0700 boot/efi && chmod 0750 var/log && chown 0:4 var/log
            cp -a '{dir.Combine("log-content")}'/. var/log/journal-like
            """);
        var homeBefore = SampleTree.Listing(Path.Combine(tree, "home"));
        var logBefore = SampleTree.Listing(Path.Combine(tree, "var", "log"));
        var rootBytesBefore = FileSystems.Usage(tree, CancellationToken.None).Bytes;

        var parts = TreeSplit.Split(tree, dir.Combine("work"), ["/", "/boot", "/boot/efi", "/var", "/var/log", "/home", "/tmp", "/srv/data"], CancellationToken.None);

        parts.Select(p => p.MountPoint).ShouldBe(["/boot/efi", "/srv/data", "/var/log", "/boot", "/home", "/tmp", "/var", "/"]);
        var at = parts.ToDictionary(p => p.MountPoint);
        at["/"].Directory.ShouldBe(tree);

        // Leaf filesystems hold their subtree exactly, their root with the mount point's owner and mode.
        SampleTree.Listing(at["/home"].Directory).ShouldBe(homeBefore);
        SampleTree.Listing(at["/var/log"].Directory).ShouldBe(logBefore);
        ImageProject.Sh($"stat -c '%a %U:%g' '{at["/var/log"].Directory}' '{at["/boot/efi"].Directory}' '{at["/tmp"].Directory}'").ShouldBe("750 root:4\n700 root:0\n1777 root:0");
        File.ReadAllText(Path.Combine(at["/boot/efi"].Directory, "EFI", "BOOT", "BOOTX64.EFI")).ShouldBe("e");

        // Parents keep the emptied mount points (owner, mode) and nothing of the children.
        Directory.EnumerateFileSystemEntries(Path.Combine(at["/boot"].Directory, "efi")).ShouldBeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Combine(at["/var"].Directory, "log")).ShouldBeEmpty();
        ImageProject.Sh($"stat -c '%a %g' '{at["/boot"].Directory}/efi' '{at["/var"].Directory}/log' '{at["/var"].Directory}/tmp'").ShouldBe("700 0\n750 4\n1777 0");
        File.Exists(Path.Combine(at["/boot"].Directory, "vmlinuz-6.1")).ShouldBeTrue();
        foreach (var mountPoint in new[] { "boot", "var", "home", "tmp", "srv/data" })
        {
            Directory.EnumerateFileSystemEntries(Path.Combine(tree, mountPoint)).ShouldBeEmpty(mountPoint);
        }

        // A mount point the tree did not have is made (0755), in its parent filesystem too.
        ImageProject.Sh($"stat -c '%a' '{tree}/srv' '{tree}/srv/data'").ShouldBe("755\n755");

        // The root keeps the rest, hard links and all.
        ImageProject.Sh($"stat -c '%h %a' '{tree}/usr/bin/tool' '{tree}/usr/bin/tool-again'").ShouldBe("2 4755\n2 4755");
        ImageProject.Sh($"getfattr --absolute-names -n security.capability --only-values '{tree}/usr/bin/tool' | od -An -tx1 | head -c 12").Trim().ShouldBe("01 00 00 02");

        // Sizes for each part: du's counts, the whole no bigger than before.
        foreach (var p in parts)
        {
            var (bytes, inodes) = FileSystems.Usage(p.Directory, CancellationToken.None);
            (p.Bytes, p.Inodes).ShouldBe((bytes, inodes), p.MountPoint);
        }

        at["/var/log"].Inodes.ShouldBe(long.Parse(ImageProject.Sh($"find '{at["/var/log"].Directory}' | wc -l").Trim(), System.Globalization.CultureInfo.InvariantCulture) - 1 /* one hard link pair */);
        at["/var/log"].Bytes.ShouldBeGreaterThan(3 * 1024 * 1024); // its copy of the 3 MiB blob
        at["/"].Bytes.ShouldBeLessThan(rootBytesBefore - (3 * 1024 * 1024));
    }

    [Fact]
    public void An_overlay_tree_whose_lower_directories_cannot_be_renamed_is_split_and_its_lower_layer_stays_as_it_was()
    {
        using var dir = new TempDir();
        var lower = dir.Combine("lower");
        SampleTree.Fill(lower);
        var lowerBefore = SampleTree.Listing(lower);
        var logBefore = SampleTree.Listing(Path.Combine(lower, "var", "log"));
        var merged = Directory.CreateDirectory(dir.Combine("merged")).FullName;
        ImageProject.Sh($"mkdir -p '{dir.Combine("upper")}' '{dir.Combine("ovl-work")}' && mount -t overlay overlay -o lowerdir='{lower}',upperdir='{dir.Combine("upper")}',workdir='{dir.Combine("ovl-work")}' '{merged}'");
        try
        {
            var parts = TreeSplit.Split(merged, dir.Combine("work"), ["/", "/var/log", "/var"], CancellationToken.None);

            SampleTree.Listing(parts[0].Directory).ShouldBe(logBefore);
            Directory.EnumerateFileSystemEntries(Path.Combine(merged, "var")).ShouldBeEmpty();
            Directory.EnumerateFileSystemEntries(Path.Combine(parts[1].Directory, "log")).ShouldBeEmpty();
            ImageProject.Sh($"stat -c '%a' '{parts[1].Directory}/tmp'").ShouldBe("1777");
        }
        finally
        {
            ImageProject.Sh($"umount '{merged}'");
        }

        SampleTree.Listing(lower).ShouldBe(lowerBefore);
    }

    [Fact]
    public void A_mount_point_that_is_a_symlink_or_a_file_in_the_tree_is_DIB0241()
    {
        using var dir = new TempDir();
        var tree = dir.Combine("tree");
        SampleTree.Fill(tree, plain: true);
        File.CreateSymbolicLink(Path.Combine(tree, "srv"), "/etc");

        var d = Should.Throw<DibException>(() => TreeSplit.Split(tree, dir.Combine("work"), ["/", "/srv/www"], CancellationToken.None)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0241");
        d.Message.ShouldContain("/srv is a symbolic link");
        Directory.Exists("/etc/www").ShouldBeFalse();

        var f = Should.Throw<DibException>(() => TreeSplit.Split(tree, dir.Combine("work"), ["/", "/etc/hostname"], CancellationToken.None)).Diagnostics.ShouldHaveSingleItem();
        f.Code.ShouldBe("DIB0241");
        f.Message.ShouldContain("is a file");
    }
}
