using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Reads DIB's block-device configuration: a YAML list of plugin entries, in the tree form (nested
/// plugins, `name` and `base` filled in as `&lt;plugin&gt;_&lt;base&gt;` and the parent) or the graph form
/// (`base:` edges), mixed as DIB allows. Every rule DIB checks is a coded error at the entry's line.
/// </summary>
internal static class BlockDeviceConfigParser
{
    public const string LocalLoop = "local_loop";
    public const string Partitioning = "partitioning";
    public const string Lvm = "lvm";
    public const string Mkfs = "mkfs";
    public const string Mount = "mount";
    public const string Fstab = "fstab";

    public static readonly IReadOnlyList<string> Plugins = [LocalLoop, Partitioning, Lvm, Mkfs, Mount, Fstab];

    /// <summary>The filesystems DIB's mkfs knows a label length for, and the length.</summary>
    public static readonly IReadOnlyDictionary<string, int> MaxLabel = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["ext2"] = 16, ["ext3"] = 16, ["ext4"] = 16, ["xfs"] = 12, ["vfat"] = 11, ["swap"] = 16,
    };

    /// <summary>One entry after the tree form is flattened: its plugin, name, base and own keys.</summary>
    private sealed record Flat(string Plugin, string Name, string? Base, Dictionary<string, YamlNode> Values, List<(Dictionary<string, YamlNode> Values, SourceLocation Where)> Partitions, SourceLocation Where);

    /// <param name="source">The file the YAML came from, or a description (`DIB_BLOCK_DEVICE_CONFIG`) for inline YAML.</param>
    public static BlockDeviceConfig Parse(string yaml, string source, RootDefaults root)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new DibException(DibCodes.BlockDeviceConfigSyntax, $"The block-device configuration is not valid YAML: {e.Message}", new SourceLocation(source, (int)e.Start.Line));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlSequenceNode entries)
        {
            throw new DibException(
                DibCodes.BlockDeviceConfigSyntax,
                "The block-device configuration must be a YAML list of entries such as '- local_loop: {name: image0}'.",
                new SourceLocation(source, stream.Documents.Count == 0 ? 0 : Line(stream.Documents[0].RootNode)));
        }

        var flat = new List<Flat>();
        foreach (var entry in entries)
        {
            if (entry is not YamlMappingNode map || map.Children.Count != 1)
            {
                throw new DibException(DibCodes.BlockDeviceConfigSyntax, "Each entry of the block-device configuration is a mapping with exactly one key, the plugin (local_loop, partitioning, lvm, mkfs, mount, fstab).", At(source, entry));
            }

            var (key, value) = map.Children.Single();
            var plugin = Scalar(key, source);
            if (!Plugins.Contains(plugin))
            {
                throw new DibException(DibCodes.UnknownBlockDevicePlugin, $"'{plugin}' is not a block-device plugin; the plugins are {string.Join(", ", Plugins)}.", At(source, key));
            }

            Flatten(plugin, value, null, At(source, key), source, flat);
        }

        var nodes = new List<LayoutNode>();
        var tables = new List<PartitioningNode>();
        var labels = new Dictionary<string, MkfsNode>(StringComparer.Ordinal);
        var mountPoints = new Dictionary<string, MountNode>(StringComparer.Ordinal);
        foreach (var f in flat)
        {
            switch (f.Plugin)
            {
                case LocalLoop:
                    nodes.Add(ReadLocalLoop(f, source));
                    break;
                case Partitioning:
                    var table = ReadPartitioning(f, source);
                    tables.Add(table);
                    nodes.AddRange(table.Partitions);
                    break;
                case Lvm:
                    var lvm = ReadLvm(f, source);
                    nodes.AddRange([.. lvm.Pvs, .. lvm.Vgs, .. lvm.Lvs, lvm]);
                    break;
                case Mkfs:
                    var fs = ReadMkfs(f, source, root);
                    if (labels.TryGetValue(fs.Label, out var other))
                    {
                        throw new DibException(DibCodes.DuplicateFileSystemLabel, $"Filesystem label '{fs.Label}' is used more than once: by '{other.Name}' ({other.Where}) and '{fs.Name}'.", fs.Where);
                    }

                    labels[fs.Label] = fs;
                    nodes.Add(fs);
                    break;
                case Mount:
                    var mount = new MountNode(f.Name, Require(f, "base", f.Base), Require(f, "mount_point", Optional(f, "mount_point", source)), f.Where);
                    if (!mount.MountPoint.StartsWith('/'))
                    {
                        throw Bad(f, "mount_point", $"Mount point '{mount.MountPoint}' of '{mount.Name}' is not an absolute path.");
                    }

                    if (mountPoints.TryGetValue(mount.MountPoint, out var first))
                    {
                        throw new DibException(DibCodes.DuplicateMountPoint, $"Mount point '{mount.MountPoint}' is specified more than once: by '{first.Name}' ({first.Where}) and '{mount.Name}'.", mount.Where);
                    }

                    mountPoints[mount.MountPoint] = mount;
                    nodes.Add(mount);
                    break;
                default:
                    nodes.Add(new FstabNode(f.Name, Require(f, "base", f.Base), Optional(f, "options", source), Number(f, "dump-freq", source), Number(f, "fsck-passno", source), f.Where));
                    break;
            }
        }

        return new BlockDeviceConfig(source, Graph.Order(nodes), tables);
    }

    private static void Flatten(string plugin, YamlNode value, string? parentBase, SourceLocation where, string source, List<Flat> output)
    {
        var map = Mapping(value, plugin, source);
        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var partitions = new List<(Dictionary<string, YamlNode>, SourceLocation)>();
        string? Own(string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? Scalar(v, source) : null;
        // DIB's block-device-efi-lvm gives lvm a list `base` (its partitions); lvm's edges are its PVs' bases, so a list is no edge.
        var @base = plugin == Lvm && map.Children.TryGetValue(new YamlScalarNode("base"), out var lvmBase) && lvmBase is YamlSequenceNode ? parentBase : Own("base") ?? parentBase;
        // Without a base DIB's name would be "<plugin>_None"; those plugins then fail for the missing base.
        var name = Own("name") ?? (@base is null && plugin is LocalLoop or Lvm
            ? throw new DibException(DibCodes.BlockDeviceMissingKey, $"This '{plugin}' entry needs a 'name'.", where)
            : $"{plugin}_{@base ?? "None"}");
        var pending = new List<(string Plugin, YamlNode Value, string Parent, SourceLocation Where)>();
        foreach (var (k, v) in map.Children)
        {
            var key = Scalar(k, source);
            if (key == "partitions" && plugin == Partitioning)
            {
                if (v is not YamlSequenceNode list)
                {
                    throw new DibException(DibCodes.BlockDeviceConfigSyntax, "'partitions' is a list of partitions.", At(source, v));
                }

                foreach (var p in list)
                {
                    var pmap = Mapping(p, "partition", source);
                    var own = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
                    string? partitionName = pmap.Children.TryGetValue(new YamlScalarNode("name"), out var pn) ? Scalar(pn, source) : null;
                    foreach (var (pk, pv) in pmap.Children)
                    {
                        var pkey = Scalar(pk, source);
                        if (Plugins.Contains(pkey))
                        {
                            pending.Add((pkey, pv, partitionName ?? throw new DibException(DibCodes.BlockDeviceMissingKey, "A partition needs a 'name'.", At(source, p)), At(source, pk)));
                        }
                        else
                        {
                            own[pkey] = pv;
                        }
                    }

                    partitions.Add((own, At(source, p)));
                }
            }
            else if (Plugins.Contains(key))
            {
                pending.Add((key, v, name, At(source, k)));
            }
            else
            {
                values[key] = v;
            }
        }

        output.Add(new Flat(plugin, name, @base, values, partitions, where));
        foreach (var (childPlugin, childValue, parent, childWhere) in pending)
        {
            Flatten(childPlugin, childValue, parent, childWhere, source, output);
        }
    }

    private static LocalLoopNode ReadLocalLoop(Flat f, string source)
    {
        if (Optional(f, "block_size", source) is { } blockSize && blockSize != "512")
        {
            throw new DibException(DibCodes.BlockDeviceUnsupported, $"local_loop '{f.Name}': block_size {blockSize} is not made here; disks have 512-byte sectors.", WhereOf(f, "block_size"));
        }

        var size = Optional(f, "size", source) is { } text ? Size(f, "size", text, relative: false).Bytes : (long?)null;
        return new LocalLoopNode(f.Name, size, Optional(f, "directory", source), f.Where);
    }

    private static PartitioningNode ReadPartitioning(Flat f, string source)
    {
        var @base = Require(f, "base", f.Base);
        if (f.Partitions.Count == 0 && !f.Values.ContainsKey("partitions"))
        {
            throw new DibException(DibCodes.BlockDeviceMissingKey, $"Partitioning '{f.Name}' needs 'partitions'.", f.Where);
        }

        var labelText = Require(f, "label", Optional(f, "label", source));
        var label = labelText switch
        {
            "mbr" => PartitionTableType.Mbr,
            "gpt" => PartitionTableType.Gpt,
            _ => throw Bad(f, "label", $"Partitioning label must be 'mbr' or 'gpt', not '{labelText}'."),
        };
        var align = Optional(f, "align", source) is { } a ? Size(f, "align", a, relative: false).Bytes : FileSystems.MiB;
        if (align <= 0 || align % PartitionTable.SectorSize != 0)
        {
            throw Bad(f, "align", $"Partitioning align {align} bytes is not a positive multiple of {PartitionTable.SectorSize}.");
        }

        var partitions = new List<PartitionNode>();
        var logicalSeen = false;
        foreach (var (values, where) in f.Partitions)
        {
            var p = new Flat(Partitioning, string.Empty, @base, values, [], where);
            var name = Optional(p, "name", source) ?? throw new DibException(DibCodes.BlockDeviceMissingKey, "A partition needs a 'name'.", where);
            var sizeText = Optional(p, "size", source) ?? throw new DibException(DibCodes.BlockDeviceMissingKey, $"Partition '{name}' needs a 'size'.", where);
            bool boot = false, primary = false;
            if (values.TryGetValue("flags", out var flagsNode))
            {
                var flags = flagsNode is YamlSequenceNode seq ? seq.Select(n => Scalar(n, source)).ToList() : [Scalar(flagsNode, source)];
                foreach (var flag in flags)
                {
                    switch (flag)
                    {
                        case "boot":
                            boot = true;
                            break;
                        case "primary" when label == PartitionTableType.Gpt:
                            throw new DibException(DibCodes.BlockDeviceBadValue, $"Partition '{name}': the primary flag is not supported for GPT partitions.", At(source, flagsNode));
                        case "primary":
                            primary = true;
                            break;
                        default:
                            throw new DibException(DibCodes.BlockDeviceBadValue, $"Partition '{name}': unknown flag '{flag}'; the flags are boot and primary (MBR only).", At(source, flagsNode));
                    }
                }
            }

            if (label == PartitionTableType.Mbr && primary && logicalSeen)
            {
                throw new DibException(DibCodes.BlockDeviceBadValue, $"Partition '{name}' is primary but comes after a logical partition; all primary partitions must be given first.", where);
            }

            logicalSeen |= label == PartitionTableType.Mbr && !primary;
            var type = Optional(p, "type", source);
            if (type is not null && !(label == PartitionTableType.Mbr ? MbrTypeValid(type) : GptTypes.TryGet(type, out _)))
            {
                throw new DibException(
                    DibCodes.BlockDeviceBadValue,
                    label == PartitionTableType.Mbr
                        ? $"Partition '{name}': type '{type}' is not a one-byte hexadecimal MBR type (such as 83 or 0xef)."
                        : $"Partition '{name}': type '{type}' is not a GPT type code known here (sgdisk's four hex digits: {string.Join(", ", GptTypes.Codes)}) nor a type GUID.",
                    WhereOf(p, "type"));
            }

            partitions.Add(new PartitionNode(name, @base, partitions.LastOrDefault()?.Name, Size(p, "size", sizeText, relative: true), boot, primary, type, where));
        }

        return new PartitioningNode(@base, label, align, partitions, f.Where);
    }

    private static bool MbrTypeValid(string type)
    {
        var hex = type.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? type[2..] : type;
        return hex.Length is 1 or 2 && byte.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b) && b != 0;
    }

    /// <summary>An MBR partition's type byte (DIB reads the text as hex); 0x83 when not given.</summary>
    public static byte MbrType(string? type) =>
        type is null ? (byte)0x83 : byte.Parse(type.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? type[2..] : type, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static LvmNode ReadLvm(Flat f, string source)
    {
        foreach (var key in new[] { "pvs", "vgs", "lvs" })
        {
            if (!f.Values.ContainsKey(key))
            {
                throw new DibException(DibCodes.BlockDeviceMissingKey, $"Lvm '{f.Name}' needs '{key}'.", f.Where);
            }
        }

        List<LvmVolumeNode> Read(string key, LvmVolumeKind kind)
        {
            if (f.Values[key] is not YamlSequenceNode list)
            {
                throw new DibException(DibCodes.BlockDeviceConfigSyntax, $"Lvm '{f.Name}': '{key}' is a list.", At(source, f.Values[key]));
            }

            var result = new List<LvmVolumeNode>();
            foreach (var item in list)
            {
                var map = Mapping(item, key, source);
                var values = map.Children.ToDictionary(c => Scalar(c.Key, source), c => c.Value, StringComparer.Ordinal);
                var v = new Flat(Lvm, string.Empty, null, values, [], At(source, item));
                var name = Optional(v, "name", source) ?? throw new DibException(DibCodes.BlockDeviceMissingKey, $"Missing 'name' in {key} of lvm '{f.Name}'.", v.Where);
                if (!values.TryGetValue("base", out var baseNode))
                {
                    throw new DibException(DibCodes.BlockDeviceMissingKey, $"Missing 'base' in {key} entry '{name}' of lvm '{f.Name}'.", v.Where);
                }

                IReadOnlyList<string> bases = baseNode is YamlSequenceNode seq ? [.. seq.Select(n => Scalar(n, source))] : [Scalar(baseNode, source)];
                var options = values.TryGetValue("options", out var o) ? (o is YamlSequenceNode os ? [.. os.Select(n => Scalar(n, source))] : FileSystems.SplitOptions(Scalar(o, source))) : [];
                string? size = null, extents = null;
                if (kind == LvmVolumeKind.LogicalVolume)
                {
                    if (Optional(v, "type", source) is { } type || values.ContainsKey("thin-pool"))
                    {
                        throw new DibException(DibCodes.BlockDeviceUnsupported, $"Logical volume '{name}': thin pools and thin volumes are not made here (the LVM metadata is written without device-mapper); use linear volumes.", v.Where);
                    }

                    size = Optional(v, "size", source);
                    extents = Optional(v, "extents", source);
                    if (size is null && extents is null)
                    {
                        throw new DibException(DibCodes.BlockDeviceMissingKey, $"Missing 'size' or 'extents' in logical volume '{name}'.", v.Where);
                    }
                }

                result.Add(new LvmVolumeNode(kind, name, bases, size, extents, options, v.Where));
            }

            return result;
        }

        var pvs = Read("pvs", LvmVolumeKind.PhysicalVolume);
        var vgs = Read("vgs", LvmVolumeKind.VolumeGroup);
        var lvs = Read("lvs", LvmVolumeKind.LogicalVolume);
        foreach (var vg in vgs)
        {
            foreach (var b in vg.Bases.Where(b => pvs.All(p => p.Name != b)))
            {
                throw new DibException(DibCodes.BlockDeviceEdgeUndefined, $"base:{b} in vgs entry '{vg.Name}' does not match a pvs entry of lvm '{f.Name}'.", vg.Where);
            }
        }

        foreach (var lv in lvs.Where(l => l.Bases.Count != 1 || vgs.All(g => g.Name != l.Bases[0])))
        {
            throw new DibException(DibCodes.BlockDeviceEdgeUndefined, $"base:{string.Join(",", lv.Bases)} in lvs entry '{lv.Name}' does not match a vgs entry of lvm '{f.Name}'.", lv.Where);
        }

        return new LvmNode(f.Name, pvs, vgs, lvs, f.Where);
    }

    private static MkfsNode ReadMkfs(Flat f, string source, RootDefaults root)
    {
        var isRoot = f.Name == RootDefaults.NodeName;
        var type = Optional(f, "type", source) ?? (isRoot ? root.Type : null);
        type = Require(f, "type", type);
        if (!MaxLabel.TryGetValue(type, out var max))
        {
            throw Bad(f, "type", $"Filesystem type '{type}' of '{f.Name}' is not one made here: {string.Join(", ", MaxLabel.Keys)}.");
        }

        var label = Optional(f, "label", source) ?? (isRoot ? root.Label ?? FileSystems.DefaultLabel(type) : f.Name);
        if (type == "vfat")
        {
            label = label.ToUpperInvariant();
        }

        if (label.Length > max)
        {
            throw new DibException(DibCodes.FileSystemLabelTooLong, $"Label [{label}] too long for filesystem [{type}]: {label.Length} > {max} (mkfs '{f.Name}').", WhereOf(f, "label"));
        }

        Guid? uuid = null;
        if (Optional(f, "uuid", source) is { } u)
        {
            uuid = Guid.TryParse(u, out var g) ? g : throw Bad(f, "uuid", $"uuid '{u}' of '{f.Name}' is not a UUID.");
        }

        return new MkfsNode(f.Name, Require(f, "base", f.Base), type, label, Optional(f, "opts", source) ?? (isRoot ? root.Options : null), uuid, f.Where);
    }

    private static int? Number(Flat f, string key, string source) =>
        Optional(f, key, source) is not { } text ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : throw Bad(f, key, $"{key} '{text}' of '{f.Name}' is not a number.");

    private static LayoutSize Size(Flat f, string key, string text, bool relative) =>
        LayoutSize.TryParse(text, relative) ?? throw Bad(f, key, $"'{text}' is not a size{(relative ? " (bytes, a number with a unit such as 512MiB or 2GB, or a percentage such as 50%)" : " (bytes or a number with a unit such as 512MiB or 2GB)")}.");

    private static string Require(Flat f, string key, string? value) =>
        value ?? throw new DibException(DibCodes.BlockDeviceMissingKey, $"{char.ToUpperInvariant(f.Plugin[0])}{f.Plugin[1..]} config{(f.Name.Length > 0 ? $" '{f.Name}'" : string.Empty)} needs '{key}'.", f.Where);

    private static string? Optional(Flat f, string key, string source) => f.Values.TryGetValue(key, out var v) ? Scalar(v, source) : null;

    private static SourceLocation WhereOf(Flat f, string key) => f.Values.TryGetValue(key, out var v) ? new SourceLocation(f.Where.File, Line(v)) : f.Where;

    private static DibException Bad(Flat f, string key, string message) => new(DibCodes.BlockDeviceBadValue, message, WhereOf(f, key));

    private static YamlMappingNode Mapping(YamlNode node, string what, string source) =>
        node as YamlMappingNode ?? throw new DibException(DibCodes.BlockDeviceConfigSyntax, $"'{what}' must be a mapping of keys to values.", At(source, node));

    private static string Scalar(YamlNode node, string source) =>
        node is YamlScalarNode { Value: { } v } ? v : throw new DibException(DibCodes.BlockDeviceConfigSyntax, "A single value is expected here, not a list or mapping.", At(source, node));

    private static SourceLocation At(string source, YamlNode node) => new(source, Line(node));

    private static int Line(YamlNode node) => (int)node.Start.Line;
}
