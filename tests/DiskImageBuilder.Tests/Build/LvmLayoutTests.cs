using System.Globalization;
using System.Text.Json;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// A block-device configuration with LVM built into a disk by the real build (busybox tree), then read
/// back the way a booting system would: LVM's tools on read-only loop devices over the partitions say
/// where each logical volume is, and the filesystem found there holds the tree. Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class LvmLayoutTests
{
    // DIB's spanned example, small: the root LV does not fit the first PV and goes on on the second.
    private const string Layout = """
        - local_loop: {name: image0}
        - partitioning:
            base: image0
            label: mbr
            partitions:
              - {name: part_a, flags: [boot, primary], size: 40MiB, type: '0x8e'}
              - {name: part_b, flags: [primary], size: 100%, type: '0x8e'}
        - lvm:
            name: lvm
            pvs:
              - {name: pv_a, base: part_a, options: ["--force"]}
              - {name: pv_b, base: part_b, options: ["--force"]}
            vgs:
              - {name: vg, base: ["pv_a", "pv_b"], options: ["--force"]}
            lvs:
              - {name: lv_root, base: vg, extents: 80%VG}
              - {name: lv_var, base: vg, extents: 100%FREE}
        - mkfs:
            name: fs_root
            base: lv_root
            type: ext4
            label: cloudimg-rootfs
            mount: {mount_point: /, fstab: {options: "defaults", fsck-passno: 1}}
        - mkfs:
            name: fs_var
            base: lv_var
            type: ext4
            label: var
            mount: {mount_point: /var, fstab: {}}
        """;

    private static ImageProject Project(bool withLvmTool)
    {
        var p = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>raw</ImageFormat><DisablePhaseCache>true</DisablePhaseCache><BlockDeviceConfig>layout.yaml</BlockDeviceConfig></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="probe" />""");
        p.Write("layout.yaml", Layout);

        // A busybox tree cannot install lvm2: the file stands in for its tool, which the build checks for
        // (Heavy/LvmBootTests boots a Debian image with the real one).
        p.Write("elements/probe/install.d/50-probe", "#!/bin/sh\n" + (withLvmTool ? "mkdir -p /usr/sbin && printf '#!/bin/sh\\n' > /usr/sbin/lvm\n" : string.Empty) + "mkdir -p /var/lib/probe && echo var-file > /var/lib/probe/marker\n");
        p.Write("elements/probe/finalise.d/50-probe", "#!/bin/sh\necho \"${DIB_ROOT_DEVICE:-unset}\" > /etc/probe\n");
        return p;
    }

    [Fact]
    public void Root_and_var_on_logical_volumes_one_spanning_two_pvs_are_where_lvm_says()
    {
        using var p = Project(withLvmTool: true);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var raw = p.OutputFile("raw");
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{raw}'"));
        var parts = table.RootElement.GetProperty("partitiontable").GetProperty("partitions").EnumerateArray()
            .Select(x => (Start: x.GetProperty("start").GetInt64() * 512, Size: x.GetProperty("size").GetInt64() * 512, Type: x.GetProperty("type").GetString())).ToList();
        parts.Select(x => x.Type).ShouldBe(["8e", "8e"]);
        var devices = new List<LoopDevice>();
        try
        {
            devices.AddRange(parts.Select(x => new LoopDevice(raw, x.Start, x.Size)));
            devices.ForEach(d => LvmTools.Run($"pvck {d.Path}", devices));
            LvmTools.Run("vgck vg", devices);
            var vg = LvmTools.Report("vgs", "vg_name,pv_count,lv_count,vg_free_count", devices).ShouldHaveSingleItem();
            (vg["vg_name"], vg["pv_count"], vg["lv_count"], vg["vg_free_count"]).ShouldBe(("vg", "2", "2", "0"));
            var segments = LvmTools.Report("lvs", "lv_name,seg_start_pe,seg_pe_ranges", devices, "--segments");
            segments.Count(s => s["lv_name"] == "lv_root").ShouldBe(2, "lv_root spans both PVs");

            var root = ReadLv(p, "lv_root", devices, segments);
            ImageProject.Sh($"e2fsck -fn '{root}'");
            ImageProject.Sh($"e2label '{root}'").Trim().ShouldBe("cloudimg-rootfs");
            ImageProject.Sh($"debugfs -R 'cat /etc/probe' '{root}' 2>/dev/null").Trim().ShouldBe("/dev/mapper/vg-lv_root");
            ImageProject.Sh($"debugfs -R 'cat /etc/fstab' '{root}' 2>/dev/null").ShouldBe("LABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=var /var ext4 defaults 0 2");
            ImageProject.Sh($"debugfs -R 'ls -p /var' '{root}' 2>/dev/null").ShouldNotContain("lib");

            var var = ReadLv(p, "lv_var", devices, segments);
            ImageProject.Sh($"e2fsck -fn '{var}'");
            ImageProject.Sh($"debugfs -R 'cat /lib/probe/marker' '{var}' 2>/dev/null").Trim().ShouldBe("var-file");
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
        }

        ImageProject.Sh("losetup -a").ShouldNotContain(p.Dir);
    }

    [Fact]
    public void DIB0254_lvm_volumes_in_an_image_without_the_lvm_tool()
    {
        using var p = Project(withLvmTool: false);

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0254");
        error.Text.ShouldContain("'lvm' element");
        File.Exists(p.OutputFile("raw")).ShouldBeFalse();
    }

    /// <summary>An LV's bytes, gathered from the places LVM reports (each segment's PV, pe_start and extents).</summary>
    private static string ReadLv(ImageProject p, string lv, IReadOnlyList<LoopDevice> devices, IReadOnlyList<Dictionary<string, string>> segments)
    {
        var peStart = LvmTools.Report("pvs", "pv_name,pe_start", devices).ToDictionary(x => x["pv_name"], x => long.Parse(x["pe_start"], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var extent = long.Parse(LvmTools.Report("vgs", "vg_extent_size", devices).Single()["vg_extent_size"], CultureInfo.InvariantCulture);
        var file = p.Combine(lv + ".lv");
        using var output = File.Create(file);
        foreach (var seg in segments.Where(s => s["lv_name"] == lv).OrderBy(s => long.Parse(s["seg_start_pe"], CultureInfo.InvariantCulture)))
        {
            var at = seg["seg_pe_ranges"].LastIndexOf(':');
            var device = devices.Single(d => d.Path == seg["seg_pe_ranges"][..at]);
            var range = seg["seg_pe_ranges"][(at + 1)..].Split('-').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            using var input = new FileStream(device.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            input.Position = peStart[device.Path] + (range[0] * extent);
            var remaining = (range[1] - range[0] + 1) * extent;
            var buffer = new byte[1 << 20];
            while (remaining > 0)
            {
                var n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                output.Write(buffer, 0, n);
                remaining -= n;
            }
        }

        return file;
    }
}
