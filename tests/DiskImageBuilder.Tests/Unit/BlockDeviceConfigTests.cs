using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>DIB's block-device YAML read into the typed graph: tree and graph forms, DIB's defaults, and each rule as a coded error at its line.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class BlockDeviceConfigTests
{
    private static readonly RootDefaults Root = new("ext4", null, null);

    private static BlockDeviceConfig Parse(string yaml) => BlockDeviceConfigParser.Parse(yaml, "layout.yaml", Root);

    private static Diagnostic Fails(string yaml) => Should.Throw<DibException>(() => Parse(yaml)).Diagnostics.ShouldHaveSingleItem();

    [Fact]
    public void The_tree_form_names_nodes_after_their_base_and_the_root_mkfs_gets_the_image_s_type_and_label()
    {
        var config = Parse("""
            - local_loop:
                name: image0
            - partitioning:
                base: image0
                label: mbr
                partitions:
                  - name: root
                    flags: [ boot, primary ]
                    size: 100%
                    mkfs:
                      mount:
                        mount_point: /
                        fstab:
                          options: "defaults"
                          fsck-passno: 1
            """);

        config.Nodes.Select(n => n.Name).ShouldBe(["image0", "root", "mkfs_root", "mount_mkfs_root", "fstab_mount_mkfs_root"]);
        var fs = config.Root;
        (fs.Name, fs.Base, fs.Type, fs.Label).ShouldBe(("mkfs_root", "root", "ext4", "cloudimg-rootfs"));
        config.Fstab().ShouldBe("LABEL=cloudimg-rootfs / ext4 defaults 0 1\n");
        var p = config.Tables.ShouldHaveSingleItem().Partitions.ShouldHaveSingleItem();
        (p.Boot, p.Primary, p.Size.IsPercent, p.Size.Percent, p.Where.Line).ShouldBe((true, true, true, 100.0, 7));
        BlockDeviceConfigParser.Parse("- local_loop: {name: image0}\n- mkfs: {name: mkfs_root, base: image0, mount: {mount_point: /}}", "x", new RootDefaults("xfs", null, "-i size=512"))
            .Root.ShouldSatisfyAllConditions(
                r => (r.Name, r.Base, r.Type, r.Label, r.Options, r.Where).ShouldBe(("mkfs_root", "image0", "xfs", "img-rootfs", "-i size=512", new SourceLocation("x", 2))));
    }

    [Fact]
    public void The_graph_form_gives_the_same_graph_as_the_tree_form()
    {
        var tree = Parse("""
            - local_loop: {name: image0}
            - partitioning:
                base: image0
                label: gpt
                partitions:
                  - name: ESP
                    type: EF00
                    size: 16MiB
                    mkfs: {type: vfat, label: esp, mount: {mount_point: /boot/efi, fstab: {}}}
                  - name: root
                    size: 100%
                    mkfs: {name: root_fs, type: xfs, mount: {mount_point: /, fstab: {fsck-passno: 1}}}
            """);
        var graph = Parse("""
            - local_loop: {name: image0}
            - partitioning:
                base: image0
                label: gpt
                partitions:
                  - {name: ESP, type: EF00, size: 16MiB}
                  - {name: root, size: 100%}
            - mkfs: {name: root_fs, base: root, type: xfs}
            - mount: {name: mount_root_fs, base: root_fs, mount_point: /}
            - fstab: {name: fstab_mount_root_fs, base: mount_root_fs, fsck-passno: 1}
            - mkfs: {name: mkfs_ESP, base: ESP, type: vfat, label: esp}
            - mount: {name: mount_mkfs_ESP, base: mkfs_ESP, mount_point: /boot/efi}
            - fstab: {name: fstab_mount_mkfs_ESP, base: mount_mkfs_ESP}
            """);

        static string Shape(BlockDeviceConfig c) => string.Join(' ', c.Nodes.Select(n => $"{n.Plugin}:{n.Name}<{string.Join(',', n.Bases)}>").Order(StringComparer.Ordinal));
        Shape(graph).ShouldBe(Shape(tree));
        graph.Fstab().ShouldBe(tree.Fstab());
        tree.Fstab().ShouldBe("LABEL=root_fs / xfs defaults 0 1\nLABEL=ESP /boot/efi vfat defaults 0 2\n");
    }

    [Fact]
    public void Lvm_volumes_are_nodes_a_mkfs_can_stand_on_and_swap_gets_DIB_s_fstab_line()
    {
        var config = Parse("""
            - local_loop: {name: image0}
            - partitioning:
                base: image0
                label: mbr
                partitions:
                  - {name: root, flags: [primary], size: 3G}
                  - {name: data, size: 100%}
            - lvm:
                name: lvm
                pvs:
                  - {name: pv, base: root, options: ["--force"]}
                  - {name: pv1, base: data}
                vgs:
                  - {name: vg, base: [pv, pv1], options: ["--force"]}
                lvs:
                  - {name: lv_root, base: vg, size: 1800M}
                  - {name: lv_swap, base: vg, extents: 100%FREE}
            - mkfs: {name: fs_root, base: lv_root, type: ext4, label: "img-rootfs", mount: {mount_point: /, fstab: {fsck-passno: 1}}}
            - mkfs: {name: swap, base: lv_swap, type: swap, mount: {mount_point: swap, fstab: {}}}
            """.Replace("mount_point: swap", "mount_point: /swap", StringComparison.Ordinal));

        var lvm = config.Nodes.OfType<LvmNode>().ShouldHaveSingleItem();
        lvm.Bases.ShouldBe(["root", "data"]);
        lvm.Vgs.ShouldHaveSingleItem().Bases.ShouldBe(["pv", "pv1"]);
        lvm.Lvs.Select(l => (l.Name, l.Size, l.Extents)).ShouldBe([("lv_root", "1800M", null), ("lv_swap", null, "100%FREE")]);
        lvm.Pvs[0].Options.ShouldBe(["--force"]);
        config.Fstab().ShouldBe("LABEL=img-rootfs / ext4 defaults 0 1\nLABEL=swap none swap sw 0 0\n");
        var order = config.Nodes.Select(n => n.Name).ToList();
        order.IndexOf("fs_root").ShouldBeGreaterThan(order.IndexOf("lv_root"));
    }

    [Theory]
    [InlineData("100", 100)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1.75TB", 1_750_000_000_000)]
    [InlineData("2.5GiB", 2684354560)]
    [InlineData("12KB", 12000)]
    [InlineData("512 MiB", 512L << 20)]
    [InlineData("MiB", 1L << 20)]
    [InlineData("3G", 3_000_000_000)]
    public void Sizes_read_as_DIB_reads_them(string text, long bytes) =>
        LayoutSize.TryParse(text, relative: true).ShouldBe(new LayoutSize(bytes, 0, false));

    [Fact]
    public void A_percentage_is_of_the_free_space_truncated_to_bytes()
    {
        LayoutSize.TryParse("33%", relative: true)!.Resolve(1000).ShouldBe(330);
        LayoutSize.TryParse("33%", relative: false).ShouldBeNull();
        LayoutSize.TryParse("1 GiBs", relative: true).ShouldBeNull();
    }

    // Each rule: the code, a piece of the message, the line it points at.
    [Theory]
    [InlineData("- local_loop: {name: image0\n", "DIB0220", "not valid YAML", 2)]
    [InlineData("local_loop: {name: image0}\n", "DIB0220", "YAML list", 1)]
    [InlineData("- local_loop: {name: a}\n  mkfs: {name: b}\n", "DIB0220", "exactly one key", 1)]
    [InlineData("- local_loop: {name: a}\n- raid:\n    name: md0\n", "DIB0221", "'raid' is not a block-device plugin", 2)]
    [InlineData("- local_loop: {name: image0}\n- local_loop: {name: image0}\n", "DIB0222", "Duplicate node name: 'image0'", 2)]
    [InlineData("- local_loop: {name: image0}\n- mkfs: {name: fs, base: image1, type: ext4}\n", "DIB0223", "Edge not defined: image1->fs", 2)]
    [InlineData("- local_loop: {name: image0}\n- mount: {name: m, base: image0, mount_point: /}\n", "DIB0223", "its base must be a mkfs node", 2)]
    [InlineData("- mkfs: {name: a, base: m, type: ext4}\n- mount: {name: m, base: a, mount_point: /}\n", "DIB0224", "cycle: m -> a -> m", 2)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    partitions: [{name: r, size: 1G}]\n", "DIB0225", "needs 'label'", 2)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    label: mbr\n    partitions: [{name: r, size: 1G}]\n", "DIB0225", "needs 'base'", 2)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - name: r\n", "DIB0225", "Partition 'r' needs a 'size'", 6)]
    [InlineData("- local_loop: {name: image0}\n- mkfs: {name: data, base: image0}\n", "DIB0225", "needs 'type'", 2)]
    [InlineData("- local_loop: {name: image0}\n- mkfs:\n    name: data\n    base: image0\n    type: ext4\n    mount: {}\n", "DIB0225", "needs 'mount_point'", 6)]
    [InlineData("- local_loop:\n    size: 1G\n", "DIB0225", "needs a 'name'", 1)]
    [InlineData("- local_loop: {name: image0}\n- mkfs: {name: d, base: image0, type: ext4,\n         label: a-label-of-17-chr}\n", "DIB0226", "Label [a-label-of-17-chr] too long for filesystem [ext4]: 17 > 16", 3)]
    [InlineData("- local_loop: {name: image0}\n- mkfs: {name: d, base: image0, type: xfs, label: thirteen-char}\n", "DIB0226", "13 > 12", 2)]
    [InlineData("- local_loop: {name: image0}\n- mkfs: {name: d, base: image0, type: vfat, label: efi-system-1}\n", "DIB0226", "Label [EFI-SYSTEM-1] too long for filesystem [vfat]: 12 > 11", 2)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - {name: a, size: 1G, mkfs: {type: ext4, label: data}}\n      - {name: b, size: 1G, mkfs: {type: vfat, label: DATA}}\n      - {name: c, size: 1G, mkfs: {type: ext4, label: DATA}}\n", "DIB0227", "Filesystem label 'DATA' is used more than once", 8)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - {name: a, size: 1G, mkfs: {type: ext4, mount: {mount_point: /var}}}\n      - {name: b, size: 1G, mkfs: {type: ext4, mount: {mount_point: /var}}}\n", "DIB0228", "Mount point '/var' is specified more than once", 7)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: msdos\n    partitions: [{name: r, size: 1G}]\n", "DIB0229", "must be 'mbr' or 'gpt'", 4)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - name: r\n        flags: [primary]\n        size: 1G\n", "DIB0229", "primary flag is not supported for GPT", 7)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - name: r\n        flags: [boot, esp]\n        size: 1G\n", "DIB0229", "unknown flag 'esp'", 7)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - name: r\n        size: lots\n", "DIB0229", "'lots' is not a size", 7)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - {name: l, size: 1G}\n      - {name: p, flags: [primary], size: 1G}\n", "DIB0229", "all primary partitions must be given first", 7)]
    [InlineData("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - name: r\n        size: 1G\n        type: ZZ00\n", "DIB0229", "type 'ZZ00' is not a GPT type code", 8)]
    [InlineData("- local_loop: {name: image0}\n- mkfs: {name: d, base: image0, type: btrfs}\n", "DIB0229", "'btrfs'", 2)]
    [InlineData("- local_loop: {name: image0, block_size: 4096}\n", "DIB0230", "block_size 4096", 1)]
    [InlineData("- local_loop: {name: image0}\n- lvm:\n    name: lvm\n    pvs: [{name: pv, base: image0}]\n    vgs: [{name: vg, base: [pv]}]\n    lvs:\n      - {name: pool, base: vg, type: thin-pool, size: 1G}\n", "DIB0230", "thin pools", 7)]
    [InlineData("- local_loop: {name: image0}\n- lvm:\n    name: lvm\n    pvs: [{name: pv, base: image0}]\n    vgs: [{name: vg, base: [pv]}]\n    lvs:\n      - {name: lv, base: vg}\n", "DIB0225", "Missing 'size' or 'extents'", 7)]
    [InlineData("- local_loop: {name: image0}\n- lvm:\n    name: lvm\n    pvs: [{name: pv, base: image0}]\n    vgs:\n      - {name: vg, base: [pv2]}\n    lvs: [{name: lv, base: vg, size: 1G}]\n", "DIB0223", "base:pv2 in vgs entry 'vg' does not match", 6)]
    [InlineData("- local_loop: {name: image0}\n- lvm:\n    name: lvm\n    pvs: [{name: pv, base: image0}]\n    vgs: [{name: vg, base: [pv]}]\n", "DIB0225", "needs 'lvs'", 2)]
    public void Each_rule_is_a_coded_error_at_the_entry_s_line(string yaml, string code, string message, int line)
    {
        var d = Fails(yaml);
        d.Code.ShouldBe(code, d.Message);
        d.Message.ShouldContain(message);
        d.Location.ShouldBe(new SourceLocation("layout.yaml", line));
    }

    [Fact]
    public void A_layout_without_a_root_mount_is_DIB0233_and_two_disks_DIB0230()
    {
        var config = Parse("- local_loop: {name: image0}\n- mkfs: {name: d, base: image0, type: ext4, mount: {mount_point: /data}}\n");
        Should.Throw<DibException>(() => config.Root).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0233");
        var two = Parse("- local_loop: {name: image0}\n- local_loop: {name: data}\n");
        var d = Should.Throw<DibException>(() => two.Disk).Diagnostics.ShouldHaveSingleItem();
        (d.Code, d.Location).ShouldBe(("DIB0230", new SourceLocation("layout.yaml", 2)));
    }

    [Theory]
    [InlineData("bios", "Mbr root::100%:True@/")]
    [InlineData("uefi", "Gpt ESP:EF00:67108864:False@/boot/efi root::100%:False@/")]
    [InlineData("hybrid", "Gpt BIOS:EF02:1048576:False ESP:EF00:67108864:False@/boot/efi root::100%:False@/")]
    public void Boot_modes_are_named_layouts_of_the_same_model(string mode, string expected)
    {
        var config = BootModes.Config(mode, Root);
        config.Source.ShouldBe($"BootMode {mode}");
        config.Root.Name.ShouldBe("mkfs_root");
        string Part(PartitionNode p) =>
            $"{p.Name}:{p.TypeCode}:{(p.Size.IsPercent ? $"{p.Size.Percent}%" : p.Size.Bytes)}:{p.Boot}"
            + string.Concat(config.FileSystems.Where(f => f.Base == p.Name).Select(f => "@" + config.MountOf(f)!.MountPoint));
        $"{config.Tables[0].Label} {string.Join(' ', config.Tables[0].Partitions.Select(Part))}".ShouldBe(expected);
    }
}
