using System.Globalization;
using System.Text;
using System.Text.Json;
using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The LVM writer's output read back by the host's real LVM tools (pvs, vgs, lvs, pvck, vgck) on read-only
/// loop devices over each partition: LVM must see the layout the writer says it wrote, and the bytes written
/// through the returned extents must be where LVM says the logical volume's extents are.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class LvmWriterTests
{
    private const long MiB = 1024 * 1024;
    private const long Epoch = 1_700_000_000;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    [Fact]
    public void One_pv_with_several_lvs_in_size_and_extents_forms_reads_back_as_written()
    {
        using var dir = new TempDir();
        var disk = Disk(dir, 200, [("root", 199)]);
        var config = new LvmConfig(
            "lvm",
            [new("pv", "root", ["--force"])],
            [new("vg", ["pv"], ["--force"])],
            [
                new("lv_root", "vg", Size: "60M"),        // DIB's units: 60e6 bytes, rounded down to 56 MiB = 14 extents
                new("lv_tmp", "vg", Size: "8MiB"),        // 2 extents
                new("lv_var", "vg", Extents: "25%VG"),    // of 49 extents, rounded down: 12
                new("lv_home", "vg", Extents: "100%FREE"), // the other 21
            ]);

        var volumes = LvmWriter.Write(disk.File, config, disk.Partitions, "lvm-one", Epoch);

        volumes.LogicalVolumes.Select(l => (l.Name, l.ExtentCount)).ShouldBe([("lv_root", 14L), ("lv_tmp", 2L), ("lv_var", 12L), ("lv_home", 21L)]);
        var written = WritePattern(disk.File, volumes);
        var copy = ReadOnlyCopy(dir, disk.File);
        using (var pv = new LoopDevice(copy, disk.Partitions["root"].Offset, disk.Partitions["root"].Length))
        {
            LvmTools.Run($"pvck {pv.Path}", [pv]);
            LvmTools.Run("vgck vg", [pv]);

            var pvs = LvmTools.Report("pvs", "pv_name,vg_name,pv_uuid,dev_size,pe_start,pv_pe_count,pv_pe_alloc_count,pv_mda_count,pv_mda_size", [pv]).ShouldHaveSingleItem();
            pvs["vg_name"].ShouldBe("vg");
            pvs["pv_uuid"].ShouldBe(LvmId.Formatted(volumes.VolumeGroups[0].PhysicalVolumes[0].Id));
            pvs["dev_size"].ShouldBe((199 * MiB).ToString(Inv));
            pvs["pv_pe_count"].ShouldBe("49");
            pvs["pv_pe_alloc_count"].ShouldBe("49");

            var vgs = LvmTools.Report("vgs", "vg_name,vg_uuid,vg_extent_size,vg_extent_count,vg_free_count,lv_count,pv_count,vg_seqno", [pv]).ShouldHaveSingleItem();
            vgs["vg_uuid"].ShouldBe(LvmId.Formatted(volumes.VolumeGroups[0].Id));
            (vgs["vg_extent_size"], vgs["vg_extent_count"], vgs["vg_free_count"], vgs["lv_count"], vgs["pv_count"]).ShouldBe(((4 * MiB).ToString(Inv), "49", "0", "4", "1"));

            CheckSegments(volumes, [pv], written);

            // The LVs' creation time is SOURCE_DATE_EPOCH's, as given; their ids come from the names.
            var backup = Path.Combine(dir.Path, "vg.backup");
            LvmTools.Run($"vgcfgbackup -f {backup} vg", [pv]);
            var text = File.ReadAllText(backup);
            text.ShouldContain($"creation_time = {Epoch}");
            text.ShouldContain($"id = \"{LvmId.Formatted(volumes["lv_home"].Id)}\"");

            // What pvcreate and vgcreate themselves make on a partition of the same size: the same PV geometry.
            var reference = Path.Combine(dir.Path, "reference.img");
            File.WriteAllBytes(reference, []);
            ImageProject.Sh($"truncate -s {199 * MiB} '{reference}'");
            using var real = new LoopDevice(reference, 0, 199 * MiB, readOnly: false);
            LvmTools.Run($"pvcreate {real.Path}", [real]);
            LvmTools.Run($"vgcreate vgref {real.Path}", [real]);
            var theirs = LvmTools.Report("pvs", "dev_size,pe_start,pv_pe_count,pv_mda_count,pv_mda_size", [real]).ShouldHaveSingleItem();
            theirs.ShouldBe(pvs.Where(kv => theirs.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
        }

        ImageProject.Sh("losetup -a").ShouldNotContain(dir.Path);
    }

    [Fact]
    public void Lv_spanning_two_pvs_and_a_second_vg_as_in_dibs_spanned_example()
    {
        using var dir = new TempDir();
        var disk = Disk(dir, 128, [("root", 41), ("data1", 41), ("data2", 41)]);
        var config = new LvmConfig(
            "lvm",
            [new("pv_root", "root", ["--force"]), new("pv_data1", "data1", ["--force"]), new("pv_data2", "data2", ["--force"])],
            [new("vg_root", ["pv_root"], ["--force"]), new("vg_data", ["pv_data1", "pv_data2"], ["--force"])],
            [
                new("lv_root", "vg_root", Size: "36MiB"),
                new("lv_data", "vg_data", Size: "60MiB"),    // 15 extents: all 10 of pv_data1, then 5 of pv_data2
                new("lv_more", "vg_data", Extents: "100%FREE"), // the other 5 of pv_data2
            ]);

        var volumes = LvmWriter.Write(disk.File, config, disk.Partitions, "lvm-span", Epoch);

        var data = volumes["lv_data"];
        data.Segments.Select(s => (s.PhysicalVolume.Name, s.PvStartExtent, s.ExtentCount)).ShouldBe([("pv_data1", 0L, 10L), ("pv_data2", 0L, 5L)]);
        volumes["lv_more"].Segments.Select(s => (s.PhysicalVolume.Name, s.PvStartExtent, s.ExtentCount)).ShouldBe([("pv_data2", 5L, 5L)]);
        var written = WritePattern(disk.File, volumes);
        var copy = ReadOnlyCopy(dir, disk.File);
        var devices = new List<LoopDevice>();
        try
        {
            foreach (var name in new[] { "root", "data1", "data2" })
            {
                devices.Add(new LoopDevice(copy, disk.Partitions[name].Offset, disk.Partitions[name].Length));
            }

            foreach (var d in devices)
            {
                LvmTools.Run($"pvck {d.Path}", devices);
            }

            LvmTools.Run("vgck vg_root", devices);
            LvmTools.Run("vgck vg_data", devices);
            LvmTools.Report("vgs", "vg_name,pv_count,lv_count,vg_extent_count,vg_free_count", devices)
                .Select(v => (v["vg_name"], v["pv_count"], v["lv_count"], v["vg_extent_count"], v["vg_free_count"]))
                .ShouldBe([("vg_data", "2", "2", "20", "0"), ("vg_root", "1", "1", "10", "1")]);

            // pvdisplay -m agrees too: lv_data's second segment is at the start of pv_data2.
            LvmTools.Run($"pvdisplay -m {devices[2].Path}", devices).ShouldContain("Logical volume\t/dev/vg_data/lv_data");
            CheckSegments(volumes, devices, written);
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
        }

        ImageProject.Sh("losetup -a").ShouldNotContain(dir.Path);
    }

    [Fact]
    public void Same_names_and_epoch_write_the_same_bytes()
    {
        using var dir = new TempDir();
        var config = new LvmConfig("lvm", [new("pv", "root")], [new("vg", ["pv"])], [new("lv", "vg", Extents: "100%VG")]);
        var a = Disk(dir, 24, [("root", 20)], "a.raw");
        var b = Path.Combine(dir.Path, "b.raw");
        var c = Path.Combine(dir.Path, "c.raw");
        File.Copy(a.File, b);
        File.Copy(a.File, c);
        LvmWriter.Write(a.File, config, a.Partitions, "same", Epoch);
        LvmWriter.Write(b, config, a.Partitions, "same", Epoch);
        LvmWriter.Write(c, config, a.Partitions, "other", Epoch);
        Hash(b).ShouldBe(Hash(a.File));
        Hash(c).ShouldNotBe(Hash(a.File), "another image gets other ids");
        LvmWriter.CreationTime("1234").ShouldBe(1234);
    }

    /// <summary>A sparse disk file with an MBR whose partitions (type 8e, Linux LVM) have the given sizes in MiB, from 1 MiB on.</summary>
    private static (string File, Dictionary<string, (long Offset, long Length)> Partitions) Disk(TempDir dir, int sizeMiB, IReadOnlyList<(string Name, int SizeMiB)> parts, string name = "disk.raw")
    {
        var file = dir.Combine(name);
        ImageProject.Sh($"truncate -s {sizeMiB}M '{file}'");
        var script = string.Join('\n', parts.Select(p => $"size={p.SizeMiB}MiB, type=8e"));
        ImageProject.Sh($"printf 'label: dos\\n{script.Replace("\n", "\\n", StringComparison.Ordinal)}\\n' | sfdisk --quiet '{file}'");
        using var table = JsonDocument.Parse(ImageProject.Sh($"sfdisk --json '{file}'"));
        var rows = table.RootElement.GetProperty("partitiontable").GetProperty("partitions").EnumerateArray().ToList();
        rows.Count.ShouldBe(parts.Count);
        return (file, parts.Select((p, i) => (p.Name, Region: (rows[i].GetProperty("start").GetInt64() * 512, rows[i].GetProperty("size").GetInt64() * 512)))
            .ToDictionary(p => p.Name, p => p.Region, StringComparer.Ordinal));
    }

    /// <summary>Writes, through each LV's returned extents, a marker at the start of every extent of the LV (naming the LV and its extent).</summary>
    private static Dictionary<string, byte[][]> WritePattern(string file, LvmVolumes volumes)
    {
        var written = new Dictionary<string, byte[][]>(StringComparer.Ordinal);
        using var disk = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        foreach (var lv in volumes.LogicalVolumes)
        {
            var markers = new byte[lv.ExtentCount][];
            for (long e = 0; e < lv.ExtentCount; e++)
            {
                markers[e] = Encoding.ASCII.GetBytes($"<{lv.Name} extent {e}>");
                disk.Position = PlaceInDisk(lv, e * lv.ExtentSize);
                disk.Write(markers[e]);
            }

            written[lv.Name] = markers;
        }

        return written;
    }

    /// <summary>Where byte <paramref name="lvOffset"/> of an LV is in the disk file, by the returned extents only.</summary>
    private static long PlaceInDisk(LogicalVolume lv, long lvOffset)
    {
        foreach (var (offset, length) in lv.Extents)
        {
            if (lvOffset < length)
            {
                return offset + lvOffset;
            }

            lvOffset -= length;
        }

        throw new InvalidOperationException("past the end of the LV");
    }

    /// <summary>
    /// Each LV's segments as lvs reports them (seg_pe_ranges, with pe_start and the extent size from pvs/vgs) are
    /// the writer's, and each marker is where LVM puts that extent of that LV on its PV's device.
    /// </summary>
    private static void CheckSegments(LvmVolumes volumes, IReadOnlyList<LoopDevice> devices, Dictionary<string, byte[][]> written)
    {
        var peStart = LvmTools.Report("pvs", "pv_name,pe_start", devices).ToDictionary(p => p["pv_name"], p => long.Parse(p["pe_start"], Inv), StringComparer.Ordinal);
        var extentSize = LvmTools.Report("vgs", "vg_name,vg_extent_size", devices).ToDictionary(v => v["vg_name"], v => long.Parse(v["vg_extent_size"], Inv), StringComparer.Ordinal);
        var segments = LvmTools.Report("lvs", "lv_name,vg_name,lv_size,seg_start_pe,seg_size_pe,seg_pe_ranges,lv_attr", devices, "--segments");
        foreach (var lv in volumes.LogicalVolumes)
        {
            var rows = segments.Where(s => s["lv_name"] == lv.Name).ToList();
            rows.Count.ShouldBe(lv.Segments.Count, lv.Name);
            rows[0]["lv_size"].ShouldBe(lv.Size.ToString(Inv), lv.Name);
            rows[0]["lv_attr"].ShouldStartWith("-wi-", Case.Sensitive, "a linear LV (not active: this host has no device-mapper)");
            for (var i = 0; i < rows.Count; i++)
            {
                var seg = lv.Segments[i];
                var device = devices.Single(d => rows[i]["seg_pe_ranges"].StartsWith(d.Path + ":", StringComparison.Ordinal));
                var range = rows[i]["seg_pe_ranges"][(device.Path.Length + 1)..].Split('-').Select(x => long.Parse(x, Inv)).ToArray();
                (rows[i]["vg_name"], rows[i]["seg_start_pe"], range[0], range[1] - range[0] + 1).ShouldBe((lv.VolumeGroup, seg.StartExtent.ToString(Inv), seg.PvStartExtent, seg.ExtentCount), lv.Name);

                // LVM's place for this segment, in the disk file: the PV's partition plus pe_start plus its extents.
                var pv = seg.PhysicalVolume;
                (pv.Offset + peStart[device.Path] + (range[0] * extentSize[lv.VolumeGroup])).ShouldBe(seg.Offset, lv.Name);
                for (long e = 0; e < seg.ExtentCount; e++)
                {
                    var marker = written[lv.Name][seg.StartExtent + e];
                    var at = peStart[device.Path] + ((range[0] + e) * extentSize[lv.VolumeGroup]);
                    Encoding.ASCII.GetString(device.Read(at, marker.Length)).ShouldBe(Encoding.ASCII.GetString(marker));
                }
            }
        }
    }

    private static string Hash(string file) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

    private static string ReadOnlyCopy(TempDir dir, string file)
    {
        var copy = Path.Combine(dir.Path, "copy-" + Path.GetFileName(file));
        ImageProject.Sh($"cp --sparse=always '{file}' '{copy}'");
        return copy;
    }
}
