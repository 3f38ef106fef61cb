using System.Globalization;
using System.Text.Json;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Tables written by <see cref="PartitionTable"/>, read back by the real sfdisk and sgdisk.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class PartitionTableTests
{
    private const long MiB = PartitionTable.Alignment;
    private const long GiB = 1024 * MiB;

    private static readonly Dictionary<string, (PartitionTableType Type, PartitionSpec[] Specs)> Layouts = new()
    {
        ["bios"] = (PartitionTableType.Mbr, [new("root", PartitionKind.LinuxFilesystem, 0, Bootable: true)]),
        ["uefi"] = (PartitionTableType.Gpt, [new("ESP", PartitionKind.EfiSystem, 64 * MiB), new("root", PartitionKind.LinuxFilesystem, 0)]),
        ["hybrid"] = (PartitionTableType.Gpt,
        [
            new("BSP", PartitionKind.BiosBoot, 1 * MiB),
            new("ESP", PartitionKind.EfiSystem, 64 * MiB),
            new("root", PartitionKind.LinuxFilesystem, 0, Bootable: true),
        ]),
    };

    [Theory]
    [InlineData("bios")]
    [InlineData("uefi")]
    [InlineData("hybrid")]
    public void Layout_reads_back_with_sfdisk_as_planned(string name)
    {
        using var dir = new TempDir();
        var (type, specs) = Layouts[name];
        var (disk, layout) = WriteLayout(dir, name);

        Tool("sfdisk", "--verify", disk).ShouldContain("No errors detected.");
        var table = Sfdisk(disk);
        table.GetProperty("label").GetString().ShouldBe(type == PartitionTableType.Mbr ? "dos" : "gpt");
        table.GetProperty("id").GetString().ShouldBe(type == PartitionTableType.Mbr
            ? "0x" + layout.MbrSignature.ToString("x8", CultureInfo.InvariantCulture)
            : layout.DiskGuid.ToString().ToUpperInvariant());
        var parts = table.GetProperty("partitions").EnumerateArray().ToList();
        parts.Count.ShouldBe(specs.Length);
        parts[0].GetProperty("start").GetInt64().ShouldBe(2048);
        for (var i = 0; i < parts.Count; i++)
        {
            var (read, planned, spec) = (parts[i], layout.Partitions[i], specs[i]);
            var start = read.GetProperty("start").GetInt64();
            var size = read.GetProperty("size").GetInt64();
            start.ShouldBe(planned.StartSector);
            size.ShouldBe(planned.SectorCount);
            (start * 512 % MiB).ShouldBe(0);
            (size * 512 % MiB).ShouldBe(0);
            if (spec.SizeBytes > 0)
            {
                planned.Size.ShouldBe(spec.SizeBytes);
            }

            if (i > 0)
            {
                start.ShouldBe(layout.Partitions[i - 1].StartSector + layout.Partitions[i - 1].SectorCount);
            }

            if (type == PartitionTableType.Mbr)
            {
                read.GetProperty("type").GetString().ShouldBe("83");
                read.TryGetProperty("bootable", out var boot).ShouldBe(spec.Bootable);
            }
            else
            {
                read.GetProperty("type").GetString().ShouldBe(GptType(spec.Kind));
                read.GetProperty("uuid").GetString().ShouldBe(planned.PartitionGuid.ToString().ToUpperInvariant());
                read.GetProperty("name").GetString().ShouldBe(spec.Name);
                (read.TryGetProperty("attrs", out var attrs) ? attrs.GetString() : null).ShouldBe(spec.Bootable ? "LegacyBIOSBootable" : null);
            }
        }

        // The rest-of-disk partition runs to the last whole MiB before the end (GPT: before the backup table).
        var last = layout.Partitions[^1];
        var limit = type == PartitionTableType.Gpt ? (4 * GiB / 512) - 33 : 4 * GiB / 512;
        (last.StartSector + last.SectorCount).ShouldBeInRange(limit - 2047, limit);
        DiskUsage(disk).ShouldBeLessThan(1 * MiB);
    }

    [Theory]
    [InlineData("uefi")]
    [InlineData("hybrid")]
    public void Gpt_layouts_pass_sgdisk_verify(string name)
    {
        using var dir = new TempDir();
        var (disk, layout) = WriteLayout(dir, name);

        var verify = Tool("sgdisk", "-v", disk);
        verify.ShouldContain("No problems found");
        verify.ShouldNotContain("Caution");
        verify.ShouldNotContain("Warning", Case.Insensitive);
        Tool("sgdisk", "-p", disk).ShouldContain($"Disk identifier (GUID): {layout.DiskGuid.ToString().ToUpperInvariant()}");
        foreach (var p in layout.Partitions)
        {
            var info = Tool("sgdisk", "-i", p.Number.ToString(CultureInfo.InvariantCulture), disk);
            info.ShouldContain($"Partition unique GUID: {p.PartitionGuid.ToString().ToUpperInvariant()}");
            info.ShouldContain($"First sector: {p.StartSector} ");
            info.ShouldContain($"Last sector: {p.EndSector} ");
            info.ShouldContain($"Attribute flags: {(p.Bootable ? "0000000000000004" : "0000000000000000")}");
            info.ShouldContain($"Partition name: '{p.Name}'");
        }
    }

    [Fact]
    public void Gpt_protective_mbr_covers_the_disk()
    {
        using var dir = new TempDir();
        var disk = NewDisk(dir, 4 * GiB);
        PartitionTable.Write(disk, PartitionTable.Plan(PartitionTableType.Gpt, 4 * GiB, Layouts["uefi"].Specs, "s"));
        var mbr = ReadBytes(disk, 0, 512);
        mbr[0x1C2].ShouldBe((byte)0xEE);
        BitConverter.ToUInt32(mbr, 0x1C6).ShouldBe(1u);
        BitConverter.ToUInt32(mbr, 0x1CA).ShouldBe((uint)((4 * GiB / 512) - 1));
        mbr.AsSpan(0x1CE, 48).ToArray().ShouldAllBe(b => b == 0);
        (mbr[0x1FE], mbr[0x1FF]).ShouldBe(((byte)0x55, (byte)0xAA));
    }

    [Fact]
    public void Mbr_entry_has_boot_flag_type_and_signature()
    {
        using var dir = new TempDir();
        var disk = NewDisk(dir, 64 * MiB);
        var layout = PartitionTable.Plan(PartitionTableType.Mbr, 64 * MiB, [new("esp", PartitionKind.EfiSystem, 8 * MiB), new("root", PartitionKind.LinuxFilesystem, 0, true)], "s");
        PartitionTable.Write(disk, layout);
        var mbr = ReadBytes(disk, 0, 512);
        BitConverter.ToUInt32(mbr, 0x1B8).ShouldBe(layout.MbrSignature);
        (mbr[0x1BE], mbr[0x1C2], mbr[0x1CE], mbr[0x1D2]).ShouldBe(((byte)0x00, (byte)0xEF, (byte)0x80, (byte)0x83));

        // CHS of LBA 2048 in 255/63 geometry: cylinder 0, head 32, sector 33.
        mbr.AsSpan(0x1BF, 3).ToArray().ShouldBe(new byte[] { 32, 33, 0 });
        var types = Sfdisk(disk).GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("type").GetString()).ToList();
        types.ShouldBe(["ef", "83"]);
    }

    [Fact]
    public void Same_seed_gives_same_guids_and_another_seed_different_ones()
    {
        var specs = Layouts["hybrid"].Specs;
        var a = PartitionTable.Plan(PartitionTableType.Gpt, 4 * GiB, specs, "seed-1");
        var b = PartitionTable.Plan(PartitionTableType.Gpt, 4 * GiB, specs, "seed-1");
        var c = PartitionTable.Plan(PartitionTableType.Gpt, 4 * GiB, specs, "seed-2");
        b.DiskGuid.ShouldBe(a.DiskGuid);
        b.MbrSignature.ShouldBe(a.MbrSignature);
        b.Partitions.ShouldBe(a.Partitions);
        c.DiskGuid.ShouldNotBe(a.DiskGuid);
        c.MbrSignature.ShouldNotBe(a.MbrSignature);
        c.Partitions.Select(p => p.PartitionGuid).Intersect(a.Partitions.Select(p => p.PartitionGuid)).ShouldBeEmpty();
        a.Partitions.Select(p => p.PartitionGuid).Distinct().Count().ShouldBe(3);

        var given = Guid.NewGuid();
        PartitionTable.Plan(PartitionTableType.Gpt, 4 * GiB, specs, "seed-1", given, 0x12345678).ShouldSatisfyAllConditions(
            l => l.DiskGuid.ShouldBe(given),
            l => l.MbrSignature.ShouldBe(0x12345678u),
            l => l.Partitions.ShouldBe(a.Partitions));
    }

    [Fact]
    public void Same_seed_writes_identical_tables()
    {
        using var dir = new TempDir();
        byte[] Written(string file, string seed)
        {
            var disk = NewDisk(dir, 256 * MiB, file);
            PartitionTable.Write(disk, PartitionTable.Plan(PartitionTableType.Gpt, 256 * MiB, Layouts["hybrid"].Specs, seed));
            return [.. ReadBytes(disk, 0, 34 * 512), .. ReadBytes(disk, (256 * MiB) - (33 * 512), 33 * 512)];
        }

        Written("a.img", "x").ShouldBe(Written("b.img", "x"));
        Written("c.img", "y").ShouldNotBe(Written("a.img", "x"));
    }

    [Fact]
    public void Stable_guids_are_name_based_version_5()
    {
        var g = StableGuid.From("hello");
        g.ShouldBe(StableGuid.From("hello"));
        g.ShouldNotBe(StableGuid.From("hello!"));
        g.Version.ShouldBe(5);
        (g.Variant & 0b1100).ShouldBe(0b1000);
    }

    [Fact]
    public void Layout_that_does_not_fit_says_how_big_the_disk_must_be()
    {
        var d = Should.Throw<DibException>(() => PartitionTable.Plan(PartitionTableType.Gpt, 64 * MiB, Layouts["uefi"].Specs, "s")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe(DibCodes.PartitionLayoutDoesNotFit);
        d.Code.ShouldBe("DIB0200");
        d.Message.ShouldContain("at least 67 MiB (70254592 bytes)");
        d.Message.ShouldContain("is 64 MiB");
    }

    [Theory]
    [InlineData("bios")]
    [InlineData("uefi")]
    [InlineData("hybrid")]
    [InlineData("fixed")]
    public void Required_disk_size_is_exactly_the_smallest_that_plans(string name)
    {
        var (type, specs) = name == "fixed"
            ? (PartitionTableType.Gpt, [new("a", PartitionKind.LinuxFilesystem, 1000), new("b", PartitionKind.LinuxFilesystem, (3 * MiB) + 1)])
            : Layouts[name];
        var required = PartitionTable.RequiredDiskSize(type, specs);
        (required % MiB).ShouldBe(0);
        PartitionTable.Plan(type, required, specs, "s").Partitions.Count.ShouldBe(specs.Length);
        Should.Throw<DibException>(() => PartitionTable.Plan(type, required - MiB, specs, "s")).Diagnostics[0].Code.ShouldBe("DIB0200");
        PartitionTable.RequiredDiskSize(type, specs, minimumRestBytes: 100 * MiB)
            .ShouldBe(specs[^1].SizeBytes == 0 ? required + (99 * MiB) : required);
    }

    [Fact]
    public void Required_sizes_round_up_to_whole_mib()
    {
        PartitionTable.RequiredDiskSize(PartitionTableType.Mbr, [new("root", PartitionKind.LinuxFilesystem, 0)]).ShouldBe(2 * MiB);
        PartitionTable.RequiredDiskSize(PartitionTableType.Gpt, [new("root", PartitionKind.LinuxFilesystem, 0)]).ShouldBe(3 * MiB);
        var layout = PartitionTable.Plan(PartitionTableType.Mbr, 10 * MiB, [new("a", PartitionKind.LinuxFilesystem, 1), new("b", PartitionKind.LinuxFilesystem, 0)], "s");
        layout.Partitions.Select(p => (p.StartSector, p.SectorCount)).ShouldBe([(2048L, 2048L), (4096L, 16384L)]);
    }

    [Fact]
    public void Bios_boot_partition_on_mbr_is_an_error() =>
        Invalid(PartitionTableType.Mbr, [new("bsp", PartitionKind.BiosBoot, MiB), new("root", PartitionKind.LinuxFilesystem, 0)]).ShouldContain("GPT");

    [Fact]
    public void Only_the_last_partition_may_take_the_rest() =>
        Invalid(PartitionTableType.Gpt, [new("root", PartitionKind.LinuxFilesystem, 0), new("esp", PartitionKind.EfiSystem, MiB)]).ShouldContain("'root'");

    [Fact]
    public void Mbr_holds_at_most_four_partitions() =>
        Invalid(PartitionTableType.Mbr, [.. Enumerable.Range(1, 5).Select(i => new PartitionSpec($"p{i}", PartitionKind.LinuxFilesystem, MiB))]).ShouldContain("at most 4");

    [Fact]
    public void Duplicate_names_negative_sizes_and_long_gpt_names_are_errors()
    {
        Invalid(PartitionTableType.Gpt, [new("a", PartitionKind.LinuxFilesystem, MiB), new("a", PartitionKind.LinuxFilesystem, 0)]).ShouldContain("'a'");
        Invalid(PartitionTableType.Gpt, [new("a", PartitionKind.LinuxFilesystem, -1)]).ShouldContain("negative");
        Invalid(PartitionTableType.Gpt, [new(new string('n', 37), PartitionKind.LinuxFilesystem, 0)]).ShouldContain("36");
        Should.Throw<DibException>(() => PartitionTable.Plan(PartitionTableType.Gpt, (64 * MiB) + 1, [new("a", PartitionKind.LinuxFilesystem, 0)], "s"))
            .Diagnostics[0].Code.ShouldBe("DIB0201");
    }

    [Fact]
    public void Writing_into_a_file_of_another_size_is_an_error()
    {
        using var dir = new TempDir();
        var disk = NewDisk(dir, 32 * MiB);
        var layout = PartitionTable.Plan(PartitionTableType.Gpt, 64 * MiB, Layouts["uefi"].Specs[1..], "s");
        Should.Throw<DibException>(() => PartitionTable.Write(disk, layout)).Diagnostics[0].Code.ShouldBe("DIB0202");
        Should.Throw<DibException>(() => PartitionTable.Write(dir.Combine("missing.img"), layout)).Diagnostics[0].Code.ShouldBe("DIB0202");
    }

    [Fact]
    public void Mbr_written_over_gpt_leaves_no_stale_gpt()
    {
        using var dir = new TempDir();
        var disk = NewDisk(dir, 256 * MiB);
        PartitionTable.Write(disk, PartitionTable.Plan(PartitionTableType.Gpt, 256 * MiB, Layouts["uefi"].Specs, "s"));
        PartitionTable.Write(disk, PartitionTable.Plan(PartitionTableType.Mbr, 256 * MiB, Layouts["bios"].Specs, "s"));
        Sfdisk(disk).GetProperty("label").GetString().ShouldBe("dos");
        ReadBytes(disk, 512, 512).ShouldAllBe(b => b == 0);
        ReadBytes(disk, (256 * MiB) - 512, 512).ShouldAllBe(b => b == 0);
    }

    private static string Invalid(PartitionTableType type, PartitionSpec[] specs)
    {
        var d = Should.Throw<DibException>(() => PartitionTable.Plan(type, 4 * GiB, specs, "s")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0201");
        Should.Throw<DibException>(() => PartitionTable.RequiredDiskSize(type, specs)).Diagnostics[0].Code.ShouldBe("DIB0201");
        return d.Message;
    }

    /// <summary>
    /// Plans a named layout on a sparse 4 GiB disk and writes it over a boot-code pattern,
    /// checking the pattern survived.
    /// </summary>
    private static (string Disk, PartitionLayout Layout) WriteLayout(TempDir dir, string name)
    {
        var (type, specs) = Layouts[name];
        var disk = NewDisk(dir, 4 * GiB);
        var layout = PartitionTable.Plan(type, 4 * GiB, specs, "seed-1");
        var bootCode = Enumerable.Range(0, PartitionTable.BootCodeSize).Select(i => (byte)((i * 7) + 3)).ToArray();
        using (var f = new FileStream(disk, FileMode.Open, FileAccess.Write))
        {
            f.Write(bootCode);
        }

        PartitionTable.Write(disk, layout);
        ReadBytes(disk, 0, PartitionTable.BootCodeSize).ShouldBe(bootCode);
        return (disk, layout);
    }

    private static string NewDisk(TempDir dir, long size, string name = "disk.img")
    {
        var path = dir.Combine(name);
        using var f = File.Create(path);
        f.SetLength(size);
        return path;
    }

    private static byte[] ReadBytes(string file, long offset, int count)
    {
        using var f = File.OpenRead(file);
        f.Position = offset;
        var buffer = new byte[count];
        f.ReadExactly(buffer);
        return buffer;
    }

    private static string GptType(PartitionKind kind) => kind switch
    {
        PartitionKind.LinuxFilesystem => "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        PartitionKind.EfiSystem => "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        _ => "21686148-6449-6E6F-744E-656564454649",
    };

    private static JsonElement Sfdisk(string disk) =>
        JsonDocument.Parse(Tool("sfdisk", "--json", disk)).RootElement.GetProperty("partitiontable").Clone();

    private static long DiskUsage(string file) =>
        long.Parse(Tool("du", "--block-size=1", file).Split('\t')[0], CultureInfo.InvariantCulture);

    /// <summary>Runs a tool and returns everything it printed.</summary>
    private static string Tool(string program, params string[] args)
    {
        var lines = new List<string>();
        ProcessRunner.RunChecked(new ProcessSpec(program, args), lines.Add, CancellationToken.None);
        return string.Join('\n', lines);
    }
}
