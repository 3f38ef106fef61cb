using System.Globalization;
using System.Text.Json;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Partition tables of block-device configurations land where diskimage-builder puts them. The expected
/// numbers were taken from DIB itself, by hand, outside the repository: for MBR its own MBR writer
/// (diskimage_builder/block_device/level1/mbr.py with utils.parse_rel_size_spec) run on a sparse file of the
/// same size; for GPT the `sgdisk -n N:0:+SIZEM -t N:TYPE -c N:NAME` command its _create_gpt computes,
/// run on such a file; then `sfdisk --json` of the result (partition number, start sector, sectors, type).
/// Here the engine's table is written to a file of that size and read back by the same tools.
/// </summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class DibGeometryTests
{
    private const long GiB = 1L << 30;

    public static TheoryData<string, long, string, string> Layouts() => new()
    {
        // DIB's documentation, partitioning example 1: no 'primary' flag, so both are logical.
        { "doc-mbr-logical", 4 * GiB, "label: mbr\n    partitions:\n      - {name: part-01, flags: [boot], size: 1GiB}\n      - {name: part-02, size: 100%}",
          "1:2048:8386560:f 5:4096:2097152:83* 6:2103296:6285312:83" },
        // Example 2: three logical partitions of 33%, 50%, 100% of what is left.
        { "doc-mbr-percent", 3 * GiB, "label: mbr\n    partitions:\n      - {name: data0, size: 33%}\n      - {name: data1, size: 50%}\n      - {name: data2, size: 100%}",
          "1:2048:6289408:f 5:4096:2074828:83 6:2082816:2104320:83 7:4190208:2101248:83" },
        { "mbr-primary-and-logical", 2 * GiB, "label: mbr\n    partitions:\n      - {name: boot, flags: [boot, primary], size: 200MiB}\n      - {name: root, flags: [primary], size: 1GiB}\n      - {name: var, size: 300MiB}\n      - {name: tmp, size: 20%}\n      - {name: home, size: 100%}",
          "1:2048:409600:83* 2:411648:2097152:83 3:2508800:1685504:f 5:2510848:614400:83 6:3127296:213401:83 7:3344384:849920:83" },
        { "mbr-align-32KiB", 1_000_000_000, "label: mbr\n    align: 32KiB\n    partitions:\n      - {name: boot, flags: [boot, primary], size: 100MB}\n      - {name: a, size: 250MiB}\n      - {name: b, size: 10%}\n      - {name: c, size: 100%}",
          "1:64:195312:83* 2:195392:1757733:f 5:195456:512000:83 6:707520:124560:83 7:832192:1120933:83" },
        // block-device-mbr's default layout.
        { "block-device-mbr", 2 * GiB, "label: mbr\n    partitions:\n      - {name: root, flags: [boot, primary], size: 100%}",
          "1:2048:4190208:83*" },
        // Example 3 (GPT): ESP, a Linux partition and LVM for the rest.
        { "doc-gpt", 4 * GiB, "label: gpt\n    partitions:\n      - {name: ESP, type: EF00, size: 16MiB}\n      - {name: data1, size: 1GiB}\n      - {name: lvmdata, type: 8E00, size: 100%}",
          "1:2048:32768:C12A7328-F81F-11D2-BA4B-00A0C93EC93B 2:34816:2097152:0FC63DAF-8483-4772-8E79-3D69D8477DE4 3:2131968:6254592:E6D6D379-F507-44C2-A23C-238F2A3DF928" },
        // block-device-efi's and block-device-gpt's default layouts.
        { "block-device-efi", 3 * GiB, "label: gpt\n    partitions:\n      - {name: ESP, type: EF00, size: 550MiB}\n      - {name: BSP, type: EF02, size: 8MiB}\n      - {name: root, type: '8300', size: 100%}",
          "1:2048:1126400:C12A7328-F81F-11D2-BA4B-00A0C93EC93B 2:1128448:16384:21686148-6449-6E6F-744E-656564454649 3:1144832:5144576:0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
        { "block-device-gpt", 2 * GiB, "label: gpt\n    partitions:\n      - {name: BSP, type: EF02, size: 8MiB}\n      - {name: root, flags: [boot], size: 100%}",
          "1:2048:16384:21686148-6449-6E6F-744E-656564454649 2:18432:4173824:0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
        { "gpt-separate-boot-var", 3 * GiB, "label: gpt\n    partitions:\n      - {name: ESP, type: EF00, size: 64MiB}\n      - {name: BSP, type: EF02, size: 1MiB}\n      - {name: boot, size: 300MiB}\n      - {name: root, size: 60%}\n      - {name: var, size: 100%}",
          "1:2048:131072:C12A7328-F81F-11D2-BA4B-00A0C93EC93B 2:133120:2048:21686148-6449-6E6F-744E-656564454649 3:135168:614400:0FC63DAF-8483-4772-8E79-3D69D8477DE4 4:749568:3323904:0FC63DAF-8483-4772-8E79-3D69D8477DE4 5:4073472:2215936:0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
        // A disk that is not a whole number of MiB, decimal units, swap type, sizes rounded down to MiB.
        { "gpt-odd-size", 1_000_000_000, "label: gpt\n    partitions:\n      - {name: a, size: 33%}\n      - {name: b, type: '8200', size: 150M}\n      - {name: c, size: 100%}",
          "1:2048:643072:0FC63DAF-8483-4772-8E79-3D69D8477DE4 2:645120:292864:0657FD6D-A4AB-43C4-84E5-0933C84B4F4F 3:937984:1011712:0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void The_table_has_DIB_s_start_sectors_sizes_and_types(string name, long diskSize, string table, string expected)
    {
        using var dir = new TempDir();
        var config = BlockDeviceConfigParser.Parse($"- local_loop: {{name: image0}}\n- partitioning:\n    base: image0\n    {table}\n", name, new RootDefaults("ext4", null, null));
        var layout = DibPartitioner.Plan(config.Tables.ShouldHaveSingleItem(), diskSize, name);
        var disk = dir.Combine(name + ".raw");
        using (var f = File.Create(disk))
        {
            f.SetLength(diskSize);
        }

        PartitionTable.Write(disk, layout);

        using var json = JsonDocument.Parse(Tool("sfdisk", "--json", disk));
        var pt = json.RootElement.GetProperty("partitiontable");
        var seen = pt.GetProperty("partitions").EnumerateArray().Select(p =>
            string.Create(CultureInfo.InvariantCulture, $"{p.GetProperty("node").GetString()![(disk.Length)..]}:{p.GetProperty("start").GetInt64()}:{p.GetProperty("size").GetInt64()}:{p.GetProperty("type").GetString()}")
            + (p.TryGetProperty("bootable", out var b) && b.GetBoolean() ? "*" : string.Empty));
        string.Join(' ', seen).ShouldBe(expected);
        if (pt.GetProperty("label").GetString() == "gpt")
        {
            Tool("sgdisk", "-v", disk).ShouldContain("No problems found.");
            pt.GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ShouldBe(layout.Partitions.Select(p => p.Name));
        }
        else
        {
            Tool("sfdisk", "--verify", disk).ShouldContain("No errors detected.");
        }

        // partx reads the kernel's way (EBR chains included): the same partitions.
        Tool("partx", "--show", "--noheadings", "--output", "NR,START,SECTORS", disk).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => string.Join(':', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .ShouldBe(expected.Split(' ').Select(e => string.Join(':', e.Split(':').Take(3))));
    }

    [Fact]
    public void A_partition_that_does_not_fit_is_DIB0200_naming_it_and_a_fifth_primary_DIB0201()
    {
        var config = BlockDeviceConfigParser.Parse("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - {name: a, size: 600MiB}\n      - {name: big, size: 500MiB}\n", "l.yaml", new RootDefaults("ext4", null, null));
        var d = Should.Throw<DibException>(() => DibPartitioner.Plan(config.Tables[0], GiB, "s")).Diagnostics.ShouldHaveSingleItem();
        (d.Code, d.Location).ShouldBe(("DIB0200", new SourceLocation("l.yaml", 7)));
        d.Message.ShouldContain("Partition 'big'");

        var five = BlockDeviceConfigParser.Parse("- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n" + string.Concat(Enumerable.Range(1, 5).Select(i => $"      - {{name: p{i}, flags: [primary], size: 10MiB}}\n")), "l.yaml", new RootDefaults("ext4", null, null));
        Should.Throw<DibException>(() => DibPartitioner.Plan(five.Tables[0], GiB, "s")).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0201");
    }

    private static string Tool(string program, params string[] args)
    {
        var lines = new List<string>();
        ProcessRunner.RunChecked(new ProcessSpec(program, args), lines.Add, CancellationToken.None);
        return string.Join('\n', lines);
    }
}
