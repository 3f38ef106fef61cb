using System.Globalization;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Assembles the disk a block-device configuration describes, with no loop device, kpartx or host
/// mount: the tree is split at its mount points (each mount point's subtree into its own filesystem,
/// the root the rest), /etc/fstab is written from the mount/fstab entries, each `mkfs` is made from its
/// part and written at its region's offset in the disk file, then the partition table and, when the
/// tree has GRUB's BIOS files, GRUB's boot code. Without ImageSize or a local_loop size the disk is
/// made as small as every filesystem's content plus headroom allows.
/// </summary>
internal static class LayoutDisk
{
    /// <summary>The image's configuration, when one is given (<see cref="BlockDeviceConfigSource"/>); null: the BootMode layout (<see cref="BootModes.Config"/>).</summary>
    public static BlockDeviceConfig? Load(BuildRequest request, IEnumerable<Element> elements) =>
        BlockDeviceConfigSource.Find(request, elements) is { } found
            ? BlockDeviceConfigParser.Parse(found.Yaml, found.Source, new RootDefaults(request.RootFileSystem, string.IsNullOrWhiteSpace(request.RootLabel) ? null : request.RootLabel, request.MkfsOptions))
            : null;

    /// <summary>
    /// How the disk boots, for the bootloader element (DIB_BOOT_MODE): an ESP (EF00 or MBR 0xEF) makes it
    /// UEFI, an MBR table or a BIOS boot partition (EF02) BIOS; both hybrid.
    /// </summary>
    public static string BootMode(BlockDeviceConfig config)
    {
        var table = config.Tables.Count > 0 ? config.Tables[0] : null;
        var esp = table?.Partitions.Any(p => table.Label == PartitionTableType.Gpt ? GptTypes.Of(p.TypeCode) == GptTypes.Of("EF00") : BlockDeviceConfigParser.MbrType(p.TypeCode) == 0xEF) ?? false;
        var bios = table is null || table.Label == PartitionTableType.Mbr || table.Partitions.Any(p => GptTypes.Of(p.TypeCode) == GptTypes.Of("EF02"));
        return esp && bios ? BootModes.Hybrid : esp ? BootModes.Uefi : BootModes.Bios;
    }

    /// <summary>The label of the filesystem mounted at /boot, or empty (DIB's getval boot-label): GRUB finds its files there.</summary>
    public static string BootLabel(BlockDeviceConfig config) =>
        config.Mounts.FirstOrDefault(m => m.MountPoint == "/boot") is { } boot ? ((MkfsNode)config.Node(boot.Base)).Label : string.Empty;

    /// <summary>Host programs the configuration's filesystems need.</summary>
    public static IEnumerable<HostTool> HostTools(BlockDeviceConfig config)
    {
        foreach (var type in config.FileSystems.Select(f => f.Type).Distinct(StringComparer.Ordinal))
        {
            switch (type)
            {
                case "xfs":
                    yield return new HostTool("mkfs.xfs", "xfsprogs");
                    break;
                case "vfat":
                    yield return new HostTool("mkfs.vfat", "dosfstools");
                    yield return new HostTool("mcopy", "mtools");
                    break;
                case "swap":
                    yield return new HostTool("mkswap", "util-linux");
                    break;
                default:
                    yield return new HostTool("mke2fs", "e2fsprogs");
                    break;
            }
        }
    }

    /// <summary>/etc/fstab from the mount and fstab entries, as DIB's writefstab (before finalise.d).</summary>
    public static void WriteFstab(BlockDeviceConfig config, string tree)
    {
        Fstab.WriteInto(tree, config.Fstab());
    }

    /// <summary>The disk's size for the tree as it is now (DIB_IMAGE_SIZE for block-device.d on).</summary>
    public static long PlannedSize(BuildRequest request, BlockDeviceConfig config, string tree, CancellationToken cancellationToken)
    {
        if (FixedSize(request, config) is { } size)
        {
            return size;
        }

        // Each mount point's share of the tree, measured in place; the root gets the rest.
        var usage = new Dictionary<string, (long Bytes, long Inodes)>(StringComparer.Ordinal);
        var total = FileSystems.Usage(tree, cancellationToken);
        var rest = total;
        foreach (var mount in config.Mounts.Where(m => m.MountPoint != "/"))
        {
            var dir = Path.Combine(tree, mount.MountPoint.TrimStart('/'));
            var u = Directory.Exists(dir) ? FileSystems.Usage(dir, cancellationToken) : (0, 0);
            usage[mount.Base] = u;
            rest = (Math.Max(0, rest.Bytes - u.Bytes), Math.Max(0, rest.Inodes - u.Inodes));
        }

        usage[config.Root.Name] = rest;
        return Fit(request, config, usage, null).DiskSize;
    }

    /// <summary>Builds every disk format of <paramref name="formats"/> from the tree; returns the files written.</summary>
    /// <param name="named">
    /// One of the engine's own layouts (<see cref="BootModes.Config"/>, <see cref="FileSystemDisk.Config"/>):
    /// an ImageSize too small is DIB0213, and a partitioned one needs a kernel and the boot mode's GRUB
    /// files in the tree. A configured layout, as in DIB, makes a disk of any tree.
    /// </param>
    /// <param name="minimumSize">The size hooks were told (DIB_IMAGE_SIZE): the disk is at least that large.</param>
    public static IReadOnlyList<string> Create(
        BuildRequest request, BlockDeviceConfig config, string tree, string work, IReadOnlyList<ImageFormat> formats, IBuildLog log, long? minimumSize, CancellationToken cancellationToken, bool named = false)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var root = config.Root;
        if (named && config.Tables.Count > 0)
        {
            RequireBootFiles(tree, request.BootMode, request.Architecture);
        }

        // GRUB's BIOS files are read before /boot leaves the tree.
        var grub = Path.Combine(work, "grub-bios");
        var hasGrub = File.Exists(Path.Combine(tree, GrubBios.BootImage)) && File.Exists(Path.Combine(tree, GrubBios.CoreImage));
        if (hasGrub)
        {
            foreach (var file in new[] { GrubBios.BootImage, GrubBios.CoreImage })
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(grub, file))!);
                File.Copy(Path.Combine(tree, file), Path.Combine(grub, file), overwrite: true);
            }
        }

        if (config.Nodes.OfType<LvmNode>().FirstOrDefault() is { } lvmNode)
        {
            LvmWriter.RequireLvmTool(tree, LvmConfig.From(lvmNode));
        }

        // An ext root sized by the tree: its mkfs starts at once with the sizes of this image's last
        // build while du measures the root's part of the tree on the other core; if the measured sizes
        // give another disk or inode count, the disk is made again. A rebuild after a small change
        // saves the du walk of the whole tree (bench/disk-usage.sh).
        var usageRecord = Path.Combine(request.CacheDirectory(), "disk-usage", Fingerprint.Of(Outputs.PathOf(request)));
        var guess = root.Type is FileSystemMaker.Ext2 or FileSystemMaker.Ext3 or FileSystemMaker.Ext4 && FixedSize(request, config) is null ? ReadUsage(usageRecord) : null;
        var contents = Split(config, tree, work, measureRoot: guess is null, cancellationToken);
        if (BuildTime.Epoch(request) is { } epoch)
        {
            // The split emptied the mount point folders just now.
            BuildTime.ClampTree(tree, epoch, cancellationToken);
        }

        var measuring = guess is null ? null : DedicatedThreads.Start(() => FileSystems.Usage(contents[root.Name].Directory, cancellationToken));
        if (guess is { } g)
        {
            contents[root.Name] = contents[root.Name] with { Bytes = g.Bytes, Inodes = g.Inodes };
        }

        var allowMemory = request.Environment.GetValueOrDefault("DIB_NO_TMPFS") != "1";
        ScratchDisk? scratch = null;
        Plan plan;
        Dictionary<string, (long Bytes, long Inodes)> usage;
        try
        {
            while (true)
            {
                usage = config.FileSystems.ToDictionary(f => f.Name, f => contents.TryGetValue(f.Name, out var c) ? (c.Bytes, c.Inodes) : (0L, 0L), StringComparer.Ordinal);
                plan = Fit(request, config, usage, minimumSize, named);
                scratch = ScratchDisk.Create(work, plan.DiskSize, usage.Values.Sum(u => u.Item1), allowMemory);
                MakeFileSystems(request, config, plan, contents, usage, scratch.Path, work, log, cancellationToken);
                if (measuring is null)
                {
                    break;
                }

                var measured = measuring.GetAwaiter().GetResult();
                measuring = null;
                var guessed = usage[root.Name];
                contents[root.Name] = contents[root.Name] with { Bytes = measured.Bytes, Inodes = measured.Inodes };
                usage[root.Name] = measured;
                var again = Fit(request, config, usage, minimumSize, named);
                var rootSize = Size(plan.Regions[root.Base]);
                if (again.DiskSize == plan.DiskSize
                    && FileSystems.Ext4InodeCount(guessed.Inodes, rootSize, root.Options) == FileSystems.Ext4InodeCount(measured.Inodes, rootSize, root.Options))
                {
                    break;
                }

                log.Message(LogImportance.Normal, "DiskImageBuilder: the tree's size changed since the last build of this image: the root filesystem is made again for the new size");
                scratch.Dispose();
                scratch = null;
            }
        }
        catch
        {
            scratch?.Dispose();
            throw;
        }
        finally
        {
            // A failed mkfs leaves du running: wait for it, its answer no longer matters.
            DedicatedThreads.WaitOut(measuring);
        }

        using var disk = scratch!;
        if (root.Type is FileSystemMaker.Ext2 or FileSystemMaker.Ext3 or FileSystemMaker.Ext4)
        {
            WriteUsage(usageRecord, usage[root.Name]);
        }

        if (plan.Layout is { } layout)
        {
            PartitionTable.Write(disk.Path, layout);
            var biosBoot = layout.Partitions.FirstOrDefault(p => p.Kind == PartitionKind.BiosBoot);
            if (hasGrub && (biosBoot is not null || layout.Type == PartitionTableType.Mbr))
            {
                var first = layout.Partitions.Select(p => p.Logical ? p.EbrSector : p.StartSector).Append(layout.Extended?.StartSector ?? long.MaxValue).Min();
                GrubBios.Embed(disk.Path, grub, biosBoot?.StartSector ?? 1, biosBoot?.SectorCount ?? (first - 1));
            }
        }

        log.Message(LogImportance.Normal, $"DiskImageBuilder: disk {plan.DiskSize / FileSystems.MiB} MiB from {config.Source} ({plan.Layout?.Type.ToString() ?? "no partition table"}), made in {clock.Elapsed.TotalSeconds:0.00} s{(disk.InMemory ? " (disk assembled in RAM)" : string.Empty)}");
        var outputs = new List<string>();
        foreach (var format in formats.Where(f => f.IsDisk))
        {
            var destination = Outputs.PathOf(request, format);
            DiskImage.Convert(disk.Path, format, destination, request, log, cancellationToken);
            outputs.Add(destination);
        }

        return outputs;
    }

    /// <summary>LVM's metadata, then every filesystem at its region of the (new, all-zero) disk file.</summary>
    private static void MakeFileSystems(
        BuildRequest request, BlockDeviceConfig config, Plan plan, Dictionary<string, FileSystemTree> contents, Dictionary<string, (long Bytes, long Inodes)> usage, string disk, string work, IBuildLog log, CancellationToken cancellationToken)
    {
        // LVM's metadata first: it zeroes the start of each logical volume, as lvcreate does.
        var creationTime = LvmWriter.CreationTime(request.Environment.GetValueOrDefault("SOURCE_DATE_EPOCH"));
        foreach (var volumes in plan.Lvm)
        {
            LvmWriter.Write(disk, volumes, SeedOf(request, config), creationTime);
            log.Message(LogImportance.Normal, $"DiskImageBuilder: lvm '{volumes.Name}': {string.Join(", ", volumes.LogicalVolumes.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.VolumeGroup}/{l.Name} {l.Size / FileSystems.MiB} MiB")))}");
        }

        // The root first: the longest to make, it overlaps most of the measuring du.
        foreach (var fs in config.FileSystems.OrderBy(f => f == config.Root ? 0 : 1))
        {
            var extents = plan.Regions[fs.Base];
            var spec = new FileSystemSpec(fs.Type, fs.Label, fs.Uuid ?? StableGuid.From($"{request.ImageName}/{fs.Label}/filesystem"), fs.Options)
            {
                Epoch = BuildTime.Epoch(request),
                MaxOnlineResize = fs == config.Root ? request.MaxOnlineResize : null,
            };
            FileSystemMaker.Make(spec, contents.GetValueOrDefault(fs.Name), disk, extents, Path.Combine(work, "mkfs"), log, cancellationToken);
            log.Message(LogImportance.Normal, string.Create(CultureInfo.InvariantCulture, $"DiskImageBuilder: {fs.Type} '{fs.Label}' ({fs.Name}) {Size(extents) / FileSystems.MiB} MiB at {extents[0].Offset} for {usage[fs.Name].Item1 / FileSystems.MiB} MiB of files"));
        }
    }

    /// <summary>The engine's boot modes need a kernel and their bootloader's files in the tree: without them the disk cannot boot.</summary>
    private static void RequireBootFiles(string tree, string bootMode, string architecture)
    {
        var boot = Path.Combine(tree, "boot");
        if (!Directory.Exists(boot) || !Directory.EnumerateFiles(boot, "vmlinuz-*").Any())
        {
            throw new DibException(
                DibCodes.NoKernel,
                "The image has no kernel (/boot/vmlinuz-*), so a disk image cannot boot. The 'debian' element installs one (linux-image-cloud-amd64); with 'debian-minimal' add <Package Include=\"linux-image-amd64\" /> (DIB: -p linux-image-amd64).");
        }

        if (BootModes.NeedsBios(bootMode))
        {
            GrubBios.Require(tree);
        }

        var (binary, package) = DiskImage.EfiBinary(architecture);
        if (BootModes.NeedsEfi(bootMode) && !File.Exists(Path.Combine(tree, DiskImage.EspDirectory, "EFI", "BOOT", binary)))
        {
            throw new DibException(
                DibCodes.NoBootloader,
                $"BootMode {bootMode} needs GRUB's EFI binary at /{DiskImage.EspDirectory}/EFI/BOOT/{binary} in the image. Add the 'vm' (or 'bootloader') element, which installs {package} and builds it.");
        }
    }

    // "BYTES INODES" of the root's part of the tree at this image's last build, or null.
    private static (long Bytes, long Inodes)? ReadUsage(string record)
    {
        try
        {
            var fields = File.ReadAllText(record).Split(' ');
            // A damaged record is no record: the build then measures first, as without one.
            return fields.Length == 2
                && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
                && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var inodes)
                ? (bytes, inodes)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Only a head start for the next build: a cache that cannot be written costs that, not the build.
    private static void WriteUsage(string record, (long Bytes, long Inodes) usage)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(record)!);
            File.WriteAllText(record + ".tmp", string.Create(CultureInfo.InvariantCulture, $"{usage.Bytes} {usage.Inodes}"));
            File.Move(record + ".tmp", record, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>What the disk's ids are derived from (partition GUIDs, LVM ids): the same image gets the same ones.</summary>
    private static string SeedOf(BuildRequest request, BlockDeviceConfig config) => $"{request.ImageName}/{config.Root.Label}";

    /// <summary>The disk's size, its partition table (none when filesystems sit on the disk itself) and each block device's bytes.</summary>
    private sealed record Plan(long DiskSize, PartitionLayout? Layout, IReadOnlyDictionary<string, IReadOnlyList<DiskExtent>> Regions, IReadOnlyList<LvmVolumes> Lvm);

    private static long Size(IReadOnlyList<DiskExtent> extents) => extents.Sum(e => e.Length);

    private static long? FixedSize(BuildRequest request, BlockDeviceConfig config) =>
        request.ImageSize is { } wanted ? (wanted + FileSystems.MiB - 1) / FileSystems.MiB * FileSystems.MiB : config.Disk.Size;

    /// <summary>
    /// The disk for these contents: the given size (each filesystem must fit, else DIB0232 naming it),
    /// or the smallest whole MiB, grown until every filesystem's region holds what it needs.
    /// </summary>
    private static Plan Fit(BuildRequest request, BlockDeviceConfig config, IReadOnlyDictionary<string, (long Bytes, long Inodes)> usage, long? minimumSize, bool named = false)
    {
        var needs = config.FileSystems.ToDictionary(f => f, f => Needed(f, usage[f.Name], f == config.Root));
        var seed = SeedOf(request, config);
        if (FixedSize(request, config) is { } fixedSize)
        {
            Plan plan;
            try
            {
                plan = Regions(config, fixedSize, seed);
            }
            catch (DibException e) when (named && e.Diagnostics.All(d => d.Code == DibCodes.PartitionLayoutDoesNotFit))
            {
                throw ImageTooSmall(request, config, usage, fixedSize);
            }

            if (named && needs.Any(n => Size(plan.Regions[n.Key.Base]) < n.Value))
            {
                throw ImageTooSmall(request, config, usage, fixedSize);
            }

            foreach (var (fs, need) in needs.Where(n => Size(plan.Regions[n.Key.Base]) < n.Value))
            {
                throw DoesNotFit(fs, Size(plan.Regions[fs.Base]), need, usage[fs.Name].Bytes, request.ImageSize is null ? "the local_loop size" : "ImageSize");
            }

            return plan;
        }

        // A first guess: every need, every fixed-size partition and an alignment's slack for each.
        var fixedParts = config.Tables.SelectMany(t => t.Partitions).Where(p => !p.Size.IsPercent).Sum(p => p.Size.Bytes + Slack(config, p));
        var size = Math.Max(minimumSize ?? 0, RoundUp(needs.Values.Sum() + fixedParts + (4 * FileSystems.MiB)));
        for (var attempt = 0; attempt < 64; attempt++)
        {
            Plan plan;
            try
            {
                plan = Regions(config, size, seed);
            }
            catch (DibException e) when (e.Diagnostics.All(d => d.Code is DibCodes.PartitionLayoutDoesNotFit or DibCodes.LvmDoesNotFit))
            {
                size = RoundUp(size + (size / 8) + FileSystems.MiB);
                continue;
            }

            var shortfall = needs.Where(n => Size(plan.Regions[n.Key.Base]) < n.Value).ToList();
            if (shortfall.Count == 0)
            {
                return plan;
            }

            // A fixed-size partition does not grow with the disk.
            foreach (var (fs, need) in shortfall.Where(s => config.Node(s.Key.Base) is PartitionNode { Size.IsPercent: false }))
            {
                throw DoesNotFit(fs, Size(plan.Regions[fs.Base]), need, usage[fs.Name].Bytes, $"partition '{fs.Base}''s size");
            }

            // Nor does a logical volume of a given size or extent count.
            foreach (var (fs, need) in shortfall.Where(s => config.Node(s.Key.Base) is LvmVolumeNode lv && LvmShare(lv) is null))
            {
                throw DoesNotFit(fs, Size(plan.Regions[fs.Base]), need, usage[fs.Name].Bytes, $"logical volume '{fs.Base}''s size");
            }

            // A percentage of what is left: grow by the shortfall over the smallest share asked for.
            var missing = shortfall.Sum(s => s.Value - Size(plan.Regions[s.Key.Base]));
            var share = shortfall.Select(s => config.Node(s.Key.Base) switch
            {
                PartitionNode { Size.IsPercent: true } p => p.Size.Percent / 100,
                LvmVolumeNode lv => LvmShare(lv) ?? 1,
                _ => 1,
            }).Min();
            size = RoundUp(size + (long)(missing / share) + FileSystems.MiB);
        }

        throw new DibException(DibCodes.FileSystemDoesNotFit, $"No disk size was found that gives every filesystem of {config.Source} the room it needs.", new SourceLocation(config.Source));
    }

    /// <summary>The engine's layouts say what ImageSize would do (DIB0213), at the project.</summary>
    private static DibException ImageTooSmall(BuildRequest request, BlockDeviceConfig config, IReadOnlyDictionary<string, (long Bytes, long Inodes)> usage, long size)
    {
        var needDisk = Fit(request with { ImageSize = null }, config, usage, null).DiskSize;
        return new DibException(
            DibCodes.ImageTooSmall,
            string.Create(CultureInfo.InvariantCulture, $"ImageSize {size / FileSystems.MiB} MiB cannot hold the image: the tree uses {usage.Values.Sum(u => u.Bytes) / FileSystems.MiB} MiB in {usage.Values.Sum(u => u.Inodes)} files and needs a disk of at least {needDisk / FileSystems.MiB} MiB."),
            request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile));
    }

    /// <summary>The share of its volume group a logical volume's `extents: N%VG` (or %PVS, %FREE) asks for; null for a fixed size.</summary>
    private static double? LvmShare(LvmVolumeNode lv) =>
        lv.Size is null && lv.Extents is { } e && e.IndexOf('%', StringComparison.Ordinal) is > 0 and var at
            && double.TryParse(e[..at], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent > 0
            ? percent / 100
            : null;

    /// <summary>The root filesystem's device for the kernel when it is on a logical volume (/dev/mapper/VG-LV), else null.</summary>
    public static string? RootDevice(BlockDeviceConfig config) =>
        config.Node(config.Root.Base) is LvmVolumeNode { Kind: LvmVolumeKind.LogicalVolume } lv
            ? new LogicalVolume(lv.Name, lv.Bases[0], string.Empty, 0, []).MapperPath
            : null;

    // The slack an MBR logical partition or alignment costs beside its size.
    private static long Slack(BlockDeviceConfig config, PartitionNode p) => config.Tables.First(t => t.Partitions.Contains(p)).Align * 2;

    private static long RoundUp(long bytes) => (bytes + FileSystems.MiB - 1) / FileSystems.MiB * FileSystems.MiB;

    private static Plan Regions(BlockDeviceConfig config, long diskSize, string seed)
    {
        var regions = new Dictionary<string, IReadOnlyList<DiskExtent>>(StringComparer.Ordinal) { [config.Disk.Name] = [new DiskExtent(0, diskSize)] };
        PartitionLayout? layout = null;
        foreach (var table in config.Tables)
        {
            layout = DibPartitioner.Plan(table, diskSize, seed);
            foreach (var p in layout.Partitions)
            {
                regions[p.Name] = [new DiskExtent(p.Offset, p.Size)];
            }
        }

        // LVM: physical volumes on the partitions' regions above; each logical volume's extents become its region.
        var volumes = new List<LvmVolumes>();
        foreach (var lvm in config.Nodes.OfType<LvmNode>())
        {
            // A PV is made on a contiguous block device (a partition or the disk), not on another LV.
            var contiguous = regions.Where(r => r.Value.Count == 1).ToDictionary(r => r.Key, r => (r.Value[0].Offset, r.Value[0].Length), StringComparer.Ordinal);
            var planned = LvmPlanner.Plan(LvmConfig.From(lvm), contiguous, seed);
            foreach (var lv in planned.LogicalVolumes)
            {
                regions[lv.Name] = lv.Extents;
            }

            volumes.Add(planned);
        }

        return new Plan(diskSize, layout, regions, volumes);
    }

    /// <summary>What a filesystem needs for its files: an ext4 or xfs root the headroom of a cloud image's root (<see cref="FileSystems.RequiredRootSize"/>), the others what their maker needs.</summary>
    private static long Needed(MkfsNode fs, (long Bytes, long Inodes) usage, bool root) =>
        root && fs.Type is FileSystems.Ext4 or FileSystems.Xfs ? FileSystems.RequiredRootSize(usage.Bytes, usage.Inodes, fs.Type) : FileSystemMaker.RequiredSize(fs.Type, usage.Bytes, usage.Inodes);

    private static DibException DoesNotFit(MkfsNode fs, long room, long need, long files, string what) => new(
        DibCodes.FileSystemDoesNotFit,
        string.Create(CultureInfo.InvariantCulture, $"Filesystem '{fs.Name}' ({fs.Type}, label {fs.Label}) on '{fs.Base}' does not fit: it has {room / (double)FileSystems.MiB:0.##} MiB, its {files / (double)FileSystems.MiB:0.##} MiB of files need {need / FileSystems.MiB} MiB. Make {what} larger."),
        fs.Where);

    /// <summary>Each filesystem's part of the tree (<see cref="TreeSplit"/>): its mount point's subtree, the root the rest. Swap has none.</summary>
    /// <param name="measureRoot">False: the root's part is not measured (its sizes are 0), the caller measures it.</param>
    private static Dictionary<string, FileSystemTree> Split(BlockDeviceConfig config, string tree, string work, bool measureRoot, CancellationToken cancellationToken)
    {
        var mounts = config.Mounts.Where(m => ((MkfsNode)config.Node(m.Base)).Type != FileSystemMaker.Swap).ToList();
        var parts = TreeSplit.Split(tree, Path.Combine(work, "filesystems"), [.. mounts.Select(m => m.MountPoint)], cancellationToken, new SourceLocation(config.Source), measureRoot);
        return mounts.ToDictionary(m => m.Base, m => parts.Single(p => p.MountPoint == m.MountPoint), StringComparer.Ordinal);
    }
}
