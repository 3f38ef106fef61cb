using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The LVM layout rules (DIB's and LVM's) and what the writer refuses, in-process; LvmWriterTests reads real output back with LVM's tools.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class LvmPlannerTests
{
    private const long MiB = 1024 * 1024;

    private static readonly Dictionary<string, (long Offset, long Length)> Partitions = new(StringComparer.Ordinal)
    {
        ["root"] = (1 * MiB, 101 * MiB),   // 25 extents after 1 MiB of metadata
        ["data"] = (102 * MiB, 41 * MiB),  // 10 extents
        ["tiny"] = (143 * MiB, 2 * MiB),   // less than metadata plus one 4 MiB extent
    };

    private static LvmConfig Config(params LvmLogicalVolumeConfig[] lvs) =>
        new("lvm", [new("pv", "root", ["--force"]), new("pv2", "data")], [new("vg", ["pv", "pv2"], ["--force"])], lvs);

    private static LvmVolumes Plan(LvmConfig config) => LvmPlanner.Plan(config, Partitions, "image");

    private static string Code(Action action) => Should.Throw<DibException>(action).Diagnostics.ShouldHaveSingleItem().Code;

    [Fact]
    public void Sizes_follow_dib_units_rounded_to_4_mib_and_lvcreate_percentages()
    {
        var v = Plan(Config(
            new("a", "vg", Size: "10MB"),        // 10e6 bytes: rounded down to 8 MiB = 2 extents
            new("b", "vg", Size: "9MiB"),        // 9 MiB: rounded down to 8 MiB = 2 extents
            new("c", "vg", Extents: "3"),
            new("d", "vg", Extents: "20%VG"),    // of 35: 7
            new("e", "vg", Extents: "50%FREE"),  // of 21 left: 10
            new("f", "vg", Extents: "100%VG"))); // more than is left: reduced to the 11 left, as lvcreate does
        v.LogicalVolumes.Select(l => (l.Name, l.ExtentCount)).ShouldBe([("a", 2L), ("b", 2L), ("c", 3L), ("d", 7L), ("e", 10L), ("f", 11L)]);
        v.VolumeGroups[0].FreeExtents.ShouldBe(0);

        // e fills pv (25 extents) and goes on on pv2; f is all on pv2.
        v["e"].Segments.Select(s => (s.PhysicalVolume.Name, s.StartExtent, s.PvStartExtent, s.ExtentCount)).ShouldBe([("pv", 0L, 14L, 10L)]);
        v["f"].Segments.Select(s => (s.PhysicalVolume.Name, s.StartExtent, s.PvStartExtent, s.ExtentCount)).ShouldBe([("pv", 0L, 24L, 1L), ("pv2", 1L, 0L, 10L)]);
        v["f"].Extents.ShouldBe([new DiskExtent((1 + 1 + (24 * 4)) * MiB, 4 * MiB), new DiskExtent((102 + 1) * MiB, 40 * MiB)]);
        v["f"].MapperPath.ShouldBe("/dev/mapper/vg-f");
    }

    [Fact]
    public void Vgcreate_extent_size_option_is_honoured()
    {
        var config = new LvmConfig("lvm", [new("pv", "data")], [new("vg-x", ["pv"], ["-s", "8M"])], [new("lv-y", "vg-x", Extents: "100%FREE")]);
        var v = Plan(config);
        v.VolumeGroups[0].ExtentSize.ShouldBe(8 * MiB);
        v["lv-y"].ExtentCount.ShouldBe(5);
        v["lv-y"].MapperPath.ShouldBe("/dev/mapper/vg--x-lv--y");
    }

    [Fact]
    public void Ids_are_stable_per_image_and_name()
    {
        var config = Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "1"));
        Plan(config)["a"].Id.ShouldBe(Plan(config)["a"].Id);
        LvmPlanner.Plan(config, Partitions, "other")["a"].Id.ShouldNotBe(Plan(config)["a"].Id);
        LvmId.Formatted(Plan(config)["a"].Id).Split('-').Select(p => p.Length).ShouldBe([6, 4, 4, 4, 4, 4, 6]);
    }

    [Fact]
    public void DIB0250_invalid_entries_name_the_entry()
    {
        var at = new SourceLocation("layout.yaml", 12);
        Should.Throw<DibException>(() => Plan(new LvmConfig("lvm", [new("pv", "nope", Location: at)], [new("vg", ["pv"])], [new("a", "vg", Extents: "1")])))
            .Diagnostics.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
                d => d.Code.ShouldBe(DibCodes.LvmConfigInvalid),
                d => d.Message.ShouldContain("base:nope of pvs 'pv'"),
                d => d.Location.ShouldBe(at));
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root")], [new("vg", ["pvx"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0250");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vgx", Extents: "1")))).ShouldBe("DIB0250");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg")))).ShouldBe("DIB0250");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "1"), new LvmLogicalVolumeConfig("a", "vg", Extents: "1")))).ShouldBe("DIB0250");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "1", Type: "mirror")))).ShouldBe("DIB0250");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("bad name", "vg", Extents: "1")))).ShouldBe("DIB0250");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root"), new("pv2", "root")], [new("vg", ["pv", "pv2"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0250");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root"), new("pv2", "data")], [new("vg", ["pv"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0250");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root")], [new("vg", ["pv"]), new("vg2", ["pv"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0250");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root")], [new("vg", ["pv"])], []))).ShouldBe("DIB0250");
    }

    [Fact]
    public void DIB0251_thin_pools_and_unknown_options_are_refused_by_name()
    {
        Should.Throw<DibException>(() => Plan(Config(new LvmLogicalVolumeConfig("pool", "vg", Size: "8MiB", Type: "thin-pool"))))
            .Diagnostics.ShouldHaveSingleItem().ShouldSatisfyAllConditions(d => d.Code.ShouldBe(DibCodes.LvmUnsupported), d => d.Message.ShouldContain("lvs 'pool' is a thin pool"));
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("t", "vg", Size: "8MiB", Type: "thin", ThinPool: "pool")))).ShouldBe("DIB0251");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("s", "vg", Extents: "10%ORIGIN")))).ShouldBe("DIB0251");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("o", "vg", Extents: "1", Options: ["--stripes", "2"])))).ShouldBe("DIB0251");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root", ["--metadatasize", "4M"])], [new("vg", ["pv"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0251");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root")], [new("vg", ["pv"], ["--clustered", "y"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0251");
    }

    [Fact]
    public void DIB0252_bad_sizes()
    {
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Size: "lots")))).ShouldBe(DibCodes.LvmSizeInvalid);
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Size: "3MiB")))).ShouldBe("DIB0252");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "120%VG")))).ShouldBe("DIB0252");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "1%VG")))).ShouldBe("DIB0252");
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "ten")))).ShouldBe("DIB0252");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "root")], [new("vg", ["pv"], ["-s", "3M"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0252");
    }

    [Fact]
    public void DIB0253_what_does_not_fit()
    {
        Should.Throw<DibException>(() => Plan(Config(new LvmLogicalVolumeConfig("big", "vg", Size: "1GiB"))))
            .Diagnostics.ShouldHaveSingleItem().ShouldSatisfyAllConditions(d => d.Code.ShouldBe(DibCodes.LvmDoesNotFit), d => d.Message.ShouldContain("35 free extents"), d => d.Message.ShouldContain("256 required"));
        Code(() => Plan(Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "100%FREE"), new LvmLogicalVolumeConfig("b", "vg", Extents: "1")))).ShouldBe("DIB0253");
        Code(() => Plan(new LvmConfig("lvm", [new("pv", "tiny")], [new("vg", ["pv"])], [new("a", "vg", Extents: "1")]))).ShouldBe("DIB0253");
    }

    [Fact]
    public void DIB0254_an_image_with_lvm_volumes_needs_the_lvm_tool()
    {
        using var tree = new TempDir();
        var config = Config(new LvmLogicalVolumeConfig("a", "vg", Extents: "1"));
        Code(() => LvmWriter.RequireLvmTool(tree.Path, config)).ShouldBe(DibCodes.LvmToolMissing);
        tree.Write("usr/sbin/lvm", "#!/bin/sh\n", executable: true);
        LvmWriter.RequireLvmTool(tree.Path, config);
    }

    [Fact]
    public void DIBs_block_device_efi_lvm_default_parses_and_lays_out_its_percentages_of_the_vg()
    {
        // DIB's block-device-efi-lvm/block-device-default.yaml (its lvm entry has a list `base`).
        var config = BlockDeviceConfigParser.Parse("""
            - local_loop:
                name: image0
            - partitioning:
                base: image0
                label: gpt
                partitions:
                  - name: ESP
                    type: 'EF00'
                    size: 550MiB
                    mkfs:
                      type: vfat
                      mount:
                        mount_point: /boot/efi
                        fstab:
                          options: "defaults"
                          fsck-passno: 2
                  - name: BSP
                    type: 'EF02'
                    size: 8MiB
                  - name: root
                    flags: [ boot ]
                    size: 40G
            - lvm:
                name: lvm
                base: [ root ]
                pvs:
                    - name: pv
                      base: root
                      options: [ "--force" ]
                vgs:
                    - name: vg
                      base: [ "pv" ]
                      options: [ "--force" ]
                lvs:
                    - name: lv_root
                      base: vg
                      extents: 23%VG
                    - name: lv_var
                      base: vg
                      extents: 57%VG
                    - name: lv_home
                      base: vg
                      extents: 20%VG
            - mkfs:
                name: fs_root
                base: lv_root
                type: xfs
                label: "img-rootfs"
                mount:
                    mount_point: /
                    fstab:
                        options: "rw,relatime"
                        fsck-passno: 1
            """, "block-device-default.yaml", new RootDefaults("ext4", null, null));
        LayoutDisk.RootDevice(config).ShouldBe("/dev/mapper/vg-lv_root");

        // 40G is DIB's 40e9 bytes: 9536 extents after pe_start; each percentage rounded down as lvcreate does.
        var v = LvmPlanner.Plan(LvmConfig.From(config.Nodes.OfType<LvmNode>().Single()), new Dictionary<string, (long, long)> { ["root"] = (560 * MiB, 40_000_000_000) }, "image");
        v.VolumeGroups[0].ExtentCount.ShouldBe(9536);
        v.LogicalVolumes.Select(l => (l.Name, l.ExtentCount)).ShouldBe([("lv_root", 2193L), ("lv_var", 5435L), ("lv_home", 1907L)]);
    }
}
