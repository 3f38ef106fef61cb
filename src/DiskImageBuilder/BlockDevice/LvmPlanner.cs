using System.Globalization;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Checks an `lvm` entry with DIB's rules (and the ones pvcreate, vgcreate and lvcreate would apply) and
/// lays it out: physical volumes on their partitions with pvcreate's defaults, volume groups with
/// vgcreate's 4 MiB extents, each logical volume linear on the next free extents, in configuration order
/// (filling one PV, then going on to the next, so an LV may span two). No I/O: <see cref="LvmWriter"/> writes it.
/// </summary>
internal static partial class LvmPlanner
{
    /// <summary>DIB rounds an LV's `size` down to this before giving it to lvcreate.</summary>
    public const long DibExtentBytes = 4L * 1024 * 1024;

    private const long DefaultExtentSize = 4L * 1024 * 1024;

    private static readonly string[] ForceOptions = ["--force", "-f", "-ff", "--yes", "-y"];

    /// <summary>Lays out <paramref name="config"/>.</summary>
    /// <param name="partitions">Each partition a PV may name as `base`: its byte region of the disk file.</param>
    /// <param name="imageName">The image's name; with the VG, PV and LV names it makes their ids, so rebuilds are identical.</param>
    public static LvmVolumes Plan(LvmConfig config, IReadOnlyDictionary<string, (long Offset, long Length)> partitions, string imageName)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(partitions);
        var where = config.Location;
        if (string.IsNullOrEmpty(config.Name))
        {
            throw Invalid("The lvm entry needs a 'name'.", where);
        }

        if (config.PhysicalVolumes.Count == 0 || config.VolumeGroups.Count == 0 || config.LogicalVolumes.Count == 0)
        {
            var missing = config.PhysicalVolumes.Count == 0 ? "pvs" : config.VolumeGroups.Count == 0 ? "vgs" : "lvs";
            throw Invalid($"The lvm entry '{config.Name}' needs a non-empty '{missing}' list.", where);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        void Unique(string kind, string name, SourceLocation? at)
        {
            if (!names.Add(name))
            {
                throw Invalid($"The name '{name}' ({kind} in lvm entry '{config.Name}') is used twice; every block-device entry needs its own name.", at ?? where);
            }
        }

        // Physical volumes: one per partition, each in at most one VG.
        var pvConfigs = new Dictionary<string, LvmPhysicalVolumeConfig>(StringComparer.Ordinal);
        var usedBases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pv in config.PhysicalVolumes)
        {
            var at = pv.Location ?? where;
            Require(pv.Name, "name", "pvs", config.Name, at);
            Require(pv.Base, "base", $"pvs '{pv.Name}'", config.Name, at);
            Unique("a physical volume", pv.Name, at);
            CheckOptions(pv.Options, $"pvs '{pv.Name}'", "pvcreate", ForceOptions, at);
            if (!partitions.ContainsKey(pv.Base))
            {
                throw Invalid($"base:{pv.Base} of pvs '{pv.Name}' is not a partition of the disk ({(partitions.Count == 0 ? "there are none" : "partitions: " + string.Join(", ", partitions.Keys))}).", at);
            }

            if (usedBases.TryGetValue(pv.Base, out var other))
            {
                throw Invalid($"pvs '{pv.Name}' and '{other}' are both on partition '{pv.Base}'; a partition holds one physical volume.", at);
            }

            usedBases[pv.Base] = pv.Name;
            pvConfigs[pv.Name] = pv;
        }

        // Volume groups and their physical volumes, in the order vgcreate is given them.
        var pvOwner = new Dictionary<string, string>(StringComparer.Ordinal);
        var groups = new List<(LvmVolumeGroupConfig Config, string Id, long ExtentSize, List<LvmPhysicalVolume> Pvs)>();
        foreach (var vg in config.VolumeGroups)
        {
            var at = vg.Location ?? where;
            Require(vg.Name, "name", "vgs", config.Name, at);
            if (vg.Base is null || vg.Base.Count == 0)
            {
                throw Invalid($"Missing 'base' in vgs '{vg.Name}' of lvm entry '{config.Name}': list the physical volumes it is made of.", at);
            }

            Unique("a volume group", vg.Name, at);
            CheckLvmName(vg.Name, "volume group", at);
            var extentSize = ExtentSize(vg, at);
            var pvs = new List<LvmPhysicalVolume>();
            foreach (var pvName in vg.Base)
            {
                if (!pvConfigs.TryGetValue(pvName, out var pv))
                {
                    throw Invalid($"base:{pvName} in vgs '{vg.Name}' does not match a valid pvs (pvs: {string.Join(", ", pvConfigs.Keys)}).", at);
                }

                if (pvOwner.TryGetValue(pvName, out var owner))
                {
                    throw Invalid($"Physical volume '{pvName}' is in volume group '{owner}' and in '{vg.Name}'; a physical volume belongs to one volume group.", at);
                }

                pvOwner[pvName] = vg.Name;
                var (offset, length) = partitions[pv.Base];
                var peStart = LvmMetadata.DefaultPeStart;
                var peCount = (length - peStart) / extentSize;
                if (peCount < 1)
                {
                    throw new DibException(
                        DibCodes.LvmDoesNotFit,
                        $"Partition '{pv.Base}' ({length} bytes) is too small for physical volume '{pv.Name}': it needs {peStart} bytes of LVM metadata plus one {extentSize}-byte extent of volume group '{vg.Name}'.",
                        pv.Location ?? at);
                }

                pvs.Add(new LvmPhysicalVolume(pv.Name, pv.Base, pvs.Count, LvmId.From($"{imageName}/pv/{pv.Name}"), offset, length, peStart, peCount));
            }

            groups.Add((vg, LvmId.From($"{imageName}/vg/{vg.Name}"), extentSize, pvs));
        }

        foreach (var pv in config.PhysicalVolumes.Where(p => !pvOwner.ContainsKey(p.Name)))
        {
            // DIB would pvcreate it and leave it unused; the writer writes PVs of volume groups only, and says so.
            throw Invalid($"pvs '{pv.Name}' is in no volume group; name it in the 'base' of a vgs entry.", pv.Location ?? where);
        }

        // Logical volumes, allocated in configuration order.
        var allocated = groups.ToDictionary(g => g.Config.Name, _ => new List<LogicalVolume>(), StringComparer.Ordinal);
        var nextFree = groups.ToDictionary(g => g.Config.Name, _ => (Pv: 0, Extent: 0L), StringComparer.Ordinal);
        foreach (var lv in config.LogicalVolumes)
        {
            var at = lv.Location ?? where;
            Require(lv.Name, "name", "lvs", config.Name, at);
            Require(lv.Base, "base", $"lvs '{lv.Name}'", config.Name, at);
            Unique("a logical volume", lv.Name, at);
            CheckLvmName(lv.Name, "logical volume", at);
            if (lv.Type is not null and not ("thin" or "thin-pool"))
            {
                throw Invalid($"Unsupported type:{lv.Type} of lvs '{lv.Name}', supported types: thin, thin-pool.", at);
            }

            if (lv.Type is not null || lv.ThinPool is not null)
            {
                throw new DibException(
                    DibCodes.LvmUnsupported,
                    $"lvs '{lv.Name}' is a thin {(lv.Type == "thin-pool" ? "pool" : "volume")}: DiskImageBuilder writes LVM metadata itself (this host has no device-mapper) and writes linear logical volumes only. Give it a 'size' or 'extents' without 'type'/'thin-pool'.",
                    at);
            }

            CheckOptions(lv.Options, $"lvs '{lv.Name}'", "lvcreate", ["--yes", "-y"], at);
            var group = groups.FirstOrDefault(g => g.Config.Name == lv.Base);
            if (group.Config is null)
            {
                throw Invalid($"base:{lv.Base} in lvs '{lv.Name}' does not match a valid vg (vgs: {string.Join(", ", groups.Select(g => g.Config.Name))}).", at);
            }

            var total = group.Pvs.Sum(p => p.PeCount);
            var free = total - allocated[lv.Base].Sum(l => l.ExtentCount);
            var want = Extents(lv, group.ExtentSize, total, free, at);
            if (want > free)
            {
                throw new DibException(
                    DibCodes.LvmDoesNotFit,
                    $"Volume group '{lv.Base}' has insufficient free space for lvs '{lv.Name}': {free} free extents of {group.ExtentSize / 1024 / 1024.0:0.##} MiB, {want} required. Make its partitions larger or the logical volume smaller.",
                    at);
            }

            // Linear, on the next free extents; when a PV is full, go on at the start of the next.
            var segments = new List<LvmSegment>();
            var (pvIndex, pvExtent) = nextFree[lv.Base];
            long done = 0;
            while (done < want)
            {
                var pv = group.Pvs[pvIndex];
                var take = Math.Min(want - done, pv.PeCount - pvExtent);
                var offset = pv.Offset + pv.PeStart + (pvExtent * group.ExtentSize);
                segments.Add(new LvmSegment(done, take, pv, pvExtent, offset, take * group.ExtentSize));
                done += take;
                pvExtent += take;
                if (pvExtent == pv.PeCount && pvIndex + 1 < group.Pvs.Count)
                {
                    (pvIndex, pvExtent) = (pvIndex + 1, 0);
                }
            }

            nextFree[lv.Base] = (pvIndex, pvExtent);
            allocated[lv.Base].Add(new LogicalVolume(lv.Name, lv.Base, LvmId.From($"{imageName}/lv/{lv.Base}/{lv.Name}"), group.ExtentSize, segments));
        }

        return new LvmVolumes(config.Name, [.. groups.Select(g => new LvmVolumeGroup(g.Config.Name, g.Id, g.ExtentSize, g.Pvs, allocated[g.Config.Name]))]);
    }

    /// <summary>DIB's `size` (its own units: MB = 10^6, MiB = 2^20, no unit = bytes), rounded down to 4 MiB as DIB does, then up to whole extents as lvcreate -L does.</summary>
    private static long Extents(LvmLogicalVolumeConfig lv, long extentSize, long total, long free, SourceLocation? at)
    {
        if (lv.Size is null && lv.Extents is null)
        {
            throw Invalid($"Missing 'size' or 'extents' in lvs '{lv.Name}'.", at);
        }

        if (lv.Size is not null)
        {
            var bytes = DibSize(lv.Size) ?? throw BadSize($"size '{lv.Size}' of lvs '{lv.Name}' is not a size DIB understands (a number with B, K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB or TiB).", at);
            bytes -= bytes % DibExtentBytes;
            if (bytes <= 0)
            {
                throw BadSize($"size '{lv.Size}' of lvs '{lv.Name}' is less than 4 MiB; DIB rounds logical volume sizes down to 4 MiB, which leaves nothing.", at);
            }

            return (bytes + extentSize - 1) / extentSize;
        }

        var m = ExtentsSpec().Match(lv.Extents!.Trim());
        if (!m.Success)
        {
            throw BadSize($"extents '{lv.Extents}' of lvs '{lv.Name}' is not lvcreate -l syntax: a number of extents, or a percentage N%VG, N%FREE or N%PVS.", at);
        }

        var number = decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var of = m.Groups[2].Value.ToUpperInvariant();
        long extents;
        if (of.Length == 0)
        {
            if (number != decimal.Truncate(number))
            {
                throw BadSize($"extents '{lv.Extents}' of lvs '{lv.Name}' is not a whole number of extents.", at);
            }

            extents = (long)number;
        }
        else if (of == "ORIGIN")
        {
            throw new DibException(DibCodes.LvmUnsupported, $"extents '{lv.Extents}' of lvs '{lv.Name}' is relative to a snapshot origin; DiskImageBuilder writes linear logical volumes only, not snapshots.", at);
        }
        else
        {
            if (number > 100)
            {
                throw BadSize($"extents '{lv.Extents}' of lvs '{lv.Name}' is more than 100%.", at);
            }

            // lvcreate rounds a percentage down to whole extents; a %VG larger than what is left is reduced to what is left.
            extents = (long)decimal.Floor(number * (of == "FREE" ? free : total) / 100);
            if (of == "VG")
            {
                extents = Math.Min(extents, free);
            }
        }

        return extents > 0 ? extents : throw BadSize($"extents '{lv.Extents}' of lvs '{lv.Name}' comes to no extents (the volume group has {total}, {free} free).", at);
    }

    /// <summary>DIB's absolute size units (the same table as its partitions), or null if it is not one.</summary>
    private static long? DibSize(string spec) => LayoutSize.TryParse(spec, relative: false)?.Bytes;

    /// <summary>vgcreate's -s/--physicalextentsize (LVM's units: binary whatever the case, MiB when none), else 4 MiB.</summary>
    private static long ExtentSize(LvmVolumeGroupConfig vg, SourceLocation? at)
    {
        var options = vg.Options ?? [];
        long size = DefaultExtentSize;
        for (var i = 0; i < options.Count; i++)
        {
            var option = options[i];
            string? value = null;
            if (option is "-s" or "--physicalextentsize")
            {
                value = i + 1 < options.Count ? options[++i] : null;
                if (value is null)
                {
                    throw Unsupported($"vgs '{vg.Name}': option {option} needs a size.", at);
                }
            }
            else if (option.StartsWith("--physicalextentsize=", StringComparison.Ordinal))
            {
                value = option["--physicalextentsize=".Length..];
            }
            else if (option.StartsWith("-s", StringComparison.Ordinal) && option.Length > 2)
            {
                value = option[2..];
            }
            else if (!ForceOptions.Contains(option))
            {
                throw Unsupported($"vgs '{vg.Name}': vgcreate option '{option}' is not supported by DiskImageBuilder's LVM writer (it takes {string.Join(", ", ForceOptions)} and -s/--physicalextentsize).", at);
            }

            if (value is not null)
            {
                var m = LvmSizeSpec().Match(value);
                var bytes = m.Success ? decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * (m.Groups[2].Value.ToLowerInvariant() switch
                {
                    "b" => 1m,
                    "s" => 512m,
                    "k" => 1024m,
                    "" or "m" => 1024m * 1024,
                    "g" => 1024m * 1024 * 1024,
                    _ => 0m,
                }) : 0m;
                if (bytes < 1024 || bytes > 16L * 1024 * 1024 * 1024 || bytes != decimal.Truncate(bytes) || !long.IsPow2((long)bytes))
                {
                    throw BadSize($"vgs '{vg.Name}': physical extent size '{value}' must be a power of two from 1 KiB to 16 GiB (for example 4M).", at);
                }

                size = (long)bytes;
            }
        }

        return size;
    }

    /// <summary>Options that change nothing on a fresh disk (forcing, answering yes) are accepted; anything else is refused, never ignored.</summary>
    private static void CheckOptions(IReadOnlyList<string>? options, string entry, string tool, IReadOnlyList<string> accepted, SourceLocation? at)
    {
        foreach (var option in options ?? [])
        {
            if (!accepted.Contains(option))
            {
                throw Unsupported($"{entry}: {tool} option '{option}' is not supported by DiskImageBuilder's LVM writer (it accepts {string.Join(", ", accepted)}).", at);
            }
        }
    }

    /// <summary>LVM's rules for VG and LV names (what vgcreate and lvcreate would refuse).</summary>
    private static void CheckLvmName(string name, string kind, SourceLocation? at)
    {
        if (!LvmName().IsMatch(name) || name is "." or ".." || name.Length > 127 || name.StartsWith('-')
            || (kind == "logical volume" && (name.StartsWith("snapshot", StringComparison.Ordinal) || name.StartsWith("pvmove", StringComparison.Ordinal) || ReservedLvPart().IsMatch(name))))
        {
            throw Invalid($"'{name}' is not a valid LVM {kind} name: use letters, digits and + _ . - (not first), at most 127 characters, and none of LVM's reserved names.", at);
        }
    }

    private static void Require(string? value, string key, string entry, string lvm, SourceLocation? at)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw Invalid($"Missing '{key}' in {entry} of lvm entry '{lvm}'.", at);
        }
    }

    private static DibException Invalid(string message, SourceLocation? at) => new(DibCodes.LvmConfigInvalid, message, at);

    private static DibException Unsupported(string message, SourceLocation? at) => new(DibCodes.LvmUnsupported, message, at);

    private static DibException BadSize(string message, SourceLocation? at) => new(DibCodes.LvmSizeInvalid, message, at);

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)([bBsSkKmMgG]?)$")]
    private static partial Regex LvmSizeSpec();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(?:%(VG|FREE|PVS|ORIGIN))?$", RegexOptions.IgnoreCase)]
    private static partial Regex ExtentsSpec();

    [GeneratedRegex(@"^[A-Za-z0-9+_.\-]+$")]
    private static partial Regex LvmName();

    [GeneratedRegex(@"_(cdata|cmeta|corig|cpool|cvol|mimage|mlog|pmspare|rimage|rmeta|tdata|tmeta|vdata|vorigin|wcorig)")]
    private static partial Regex ReservedLvPart();
}
