using System.Security.Cryptography;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Turns the finished tree into a partitioned raw disk and the requested disk formats: filesystem
/// images made as files, the partition table written by <see cref="PartitionTable"/>, the
/// filesystems placed at their offsets, GRUB's BIOS code embedded, then qemu-img conversions.
/// </summary>
internal static class DiskImage
{
    public const string EspLabel = "ESP";
    public const long EspSize = 64 * FileSystems.MiB;
    public const long BiosBootSize = FileSystems.MiB;

    /// <summary>Where the ESP's files are in the tree (DIB's mount point); they go to the ESP, not the root filesystem.</summary>
    public const string EspDirectory = "boot/efi";

    /// <summary>Host programs the disk stage runs, for the check before any work.</summary>
    public static IEnumerable<HostTool> HostTools(IReadOnlyList<ImageFormat> formats, string bootMode, string fsType)
    {
        if (!formats.Any(f => f.IsDisk))
        {
            yield break;
        }

        yield return new HostTool("mke2fs", "e2fsprogs");
        if (fsType == FileSystems.Xfs)
        {
            yield return new HostTool("mkfs.xfs", "xfsprogs");
            yield return new HostTool("losetup", "mount");
        }

        yield return new HostTool("du", "coreutils");
        yield return new HostTool("cp", "coreutils");
        if (formats.Any(f => f.IsDisk && f.Name != "raw"))
        {
            yield return new HostTool("qemu-img", "qemu-utils");
        }

        if (BootModes.NeedsEfi(bootMode))
        {
            yield return new HostTool("mkfs.vfat", "dosfstools");
            yield return new HostTool("mcopy", "mtools");
        }
    }

    /// <summary>The partitions of the boot mode's named layout (<see cref="BootModes.Layout"/>); the last, the root, gets <paramref name="rootSize"/> (0: the rest of the disk).</summary>
    public static IReadOnlyList<PartitionSpec> Partitions(string bootMode, long rootSize)
    {
        var table = BlockDeviceConfigParser.Parse(BootModes.Layout(bootMode), $"BootMode {bootMode}", new RootDefaults(FileSystems.Ext4, null, null)).Tables[0];
        return [.. table.Partitions.Select(p => new PartitionSpec(
            p.Name,
            p.TypeCode switch { "EF00" => PartitionKind.EfiSystem, "EF02" => PartitionKind.BiosBoot, _ => PartitionKind.LinuxFilesystem },
            p.Size.IsPercent ? rootSize : p.Size.Bytes,
            p.Boot))];
    }

    /// <summary>Builds every disk format of <paramref name="formats"/> from the tree; returns the files written.</summary>
    /// <param name="minimumSize">The size hooks were told (DIB_IMAGE_SIZE): the disk is at least that large.</param>
    public static IReadOnlyList<string> Create(
        BuildRequest request, string tree, string work, IReadOnlyList<ImageFormat> formats, IBuildLog log, CancellationToken cancellationToken, long? minimumSize = null)
    {
        var bootMode = request.BootMode;
        var fsType = request.RootFileSystem;
        var label = RootLabel(request);
        RequireKernel(tree);
        if (BootModes.NeedsBios(bootMode))
        {
            GrubBios.Require(tree);
        }

        var espContent = Path.Combine(work, "esp");
        MoveEspContent(tree, espContent, bootMode, request.Architecture);
        if (BuildTime.Epoch(request) is { } epoch && Directory.Exists(Path.Combine(tree, EspDirectory)))
        {
            BuildTime.ClampTree(Path.Combine(tree, EspDirectory), epoch, cancellationToken); // emptied just now
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var type = BootModes.NeedsEfi(bootMode) ? PartitionTableType.Gpt : PartitionTableType.Mbr;
        var allowMemory = request.Environment.GetValueOrDefault("DIB_NO_TMPFS") != "1";
        var uuid = StableGuid.From($"{request.ImageName}/{label}/filesystem");

        // ext4 sized by the tree: mke2fs starts at once with the sizes of this image's last build
        // while du measures this tree on the other core; if the tree's sizes give another disk,
        // the filesystem is made again. A rebuild after a small change saves the du walk.
        var usageRecord = Path.Combine(request.CacheDirectory(), "disk-usage", Fingerprint.Of(Outputs.PathOf(request)));
        var guess = fsType == FileSystems.Ext4 && request.ImageSize is null ? ReadUsage(usageRecord) : null;
        var measuring = guess is null ? null : DedicatedThreads.Start(() => FileSystems.Usage(tree, cancellationToken));
        var usage = guess ?? FileSystems.Usage(tree, cancellationToken);
        ScratchDisk? scratch = null;
        DiskPlan plan;
        try
        {
            while (true)
            {
                plan = PlanDisk(request, type, usage, minimumSize);
                scratch = ScratchDisk.Create(work, plan.DiskSize, usage.Bytes + EspSize, allowMemory);
                if (fsType == FileSystems.Xfs)
                {
                    var rootImage = Path.Combine(work, "root." + fsType);
                    FileSystems.MakeXfs(rootImage, tree, Path.Combine(work, "xfs-mount"), plan.Root.Size, label, request.MkfsOptions, log, cancellationToken);
                    Place(scratch.Path, rootImage, plan.Root, cancellationToken);
                    File.Delete(rootImage);
                }
                else
                {
                    // Written in place, at the partition's offset: no second copy of the filesystem.
                    FileSystems.MakeExt4(scratch.Path, plan.Root.Offset, tree, plan.Root.Size, label, uuid, plan.Inodes, request.MaxOnlineResize, request.MkfsOptions, log, cancellationToken, BuildTime.Epoch(request));
                }

                if (measuring is null)
                {
                    break;
                }

                var measured = measuring.GetAwaiter().GetResult();
                measuring = null;
                var same = PlanDisk(request, type, measured, minimumSize).SameFileSystem(plan);
                usage = measured;
                if (same)
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
            // A failed mke2fs leaves du running: wait for it, its answer no longer matters.
            DedicatedThreads.WaitOut(measuring);
        }

        using var disk = scratch!;
        WriteUsage(usageRecord, usage);
        var raw = disk.Path;
        var layout = plan.Layout;
        log.Message(LogImportance.Normal, $"DiskImageBuilder: disk {Mib(plan.DiskSize)} ({bootMode}, {type}), {fsType} root filesystem {Mib(plan.Root.Size)} for {Mib(usage.Bytes)} of files");
        log.Message(LogImportance.Normal, $"DiskImageBuilder: root filesystem made in {clock.Elapsed.TotalSeconds:0.00} s{(disk.InMemory ? " (disk assembled in RAM)" : string.Empty)}");

        // After mke2fs, which may wipe what it finds around its filesystem.
        PartitionTable.Write(raw, layout);

        if (BootModes.NeedsEfi(bootMode))
        {
            var esp = layout.Partitions.Single(p => p.Kind == PartitionKind.EfiSystem);
            var espImage = Path.Combine(work, "esp.vfat");
            FileSystems.MakeVfat(espImage, espContent, esp.Size, EspLabel, log, cancellationToken);
            Place(raw, espImage, esp, cancellationToken);
            File.Delete(espImage);
        }

        if (BootModes.NeedsBios(bootMode))
        {
            var biosBoot = layout.Partitions.FirstOrDefault(p => p.Kind == PartitionKind.BiosBoot);
            GrubBios.Embed(raw, tree, biosBoot?.StartSector ?? 1, biosBoot?.SectorCount ?? (layout.Partitions[0].StartSector - 1));
        }

        var outputs = new List<string>();
        foreach (var format in formats.Where(f => f.IsDisk))
        {
            var destination = Outputs.PathOf(request, format);
            Convert(raw, format, destination, request, log, cancellationToken);
            outputs.Add(destination);
        }

        return outputs;
    }

    /// <summary>What the tree's sizes decide: the disk (and so its layout) and the root filesystem's inode count.</summary>
    private sealed record DiskPlan(long DiskSize, PartitionLayout Layout, long? Inodes)
    {
        public Partition Root => Layout.Partitions[^1];

        /// <summary>The layout follows from the disk size, so these two make the same filesystem.</summary>
        public bool SameFileSystem(DiskPlan other) => DiskSize == other.DiskSize && Inodes == other.Inodes;
    }

    /// <summary>
    /// The disk's size for the tree as it is now (DIB computes DIB_IMAGE_SIZE after post-install.d):
    /// ImageSize when set, else what the tree needs. Measures the tree (du).
    /// </summary>
    public static long PlannedSize(BuildRequest request, string tree, CancellationToken cancellationToken) =>
        request.ImageSize is { } wanted
            ? RoundToMib(wanted)
            : PlanDisk(request, BootModes.NeedsEfi(request.BootMode) ? PartitionTableType.Gpt : PartitionTableType.Mbr, FileSystems.Usage(tree, cancellationToken), null).DiskSize;

    private static long RoundToMib(long bytes) => (bytes + FileSystems.MiB - 1) / FileSystems.MiB * FileSystems.MiB;

    private static DiskPlan PlanDisk(BuildRequest request, PartitionTableType type, (long Bytes, long Inodes) usage, long? minimumSize)
    {
        var needRoot = FileSystems.RequiredRootSize(usage.Bytes, usage.Inodes, request.RootFileSystem);
        var needDisk = PartitionTable.RequiredDiskSize(type, Partitions(request.BootMode, needRoot));
        var diskSize = request.ImageSize is { } wanted ? RoundToMib(wanted) : Math.Max(needDisk, minimumSize ?? 0);
        if (diskSize < needDisk)
        {
            throw new DibException(
                DibCodes.ImageTooSmall,
                $"ImageSize {Mib(diskSize)} cannot hold the image: the tree uses {Mib(usage.Bytes)} in {usage.Inodes} files and needs a disk of at least {Mib(needDisk)}.",
                request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile));
        }

        var layout = PartitionTable.Plan(type, diskSize, Partitions(request.BootMode, 0), seed: $"{request.ImageName}/{RootLabel(request)}");
        return new DiskPlan(diskSize, layout, FileSystems.Ext4InodeCount(usage.Inodes, layout.Partitions[^1].Size, request.MkfsOptions));
    }

    // "BYTES INODES" of the tree of this image's last build, or null.
    private static (long Bytes, long Inodes)? ReadUsage(string record)
    {
        try
        {
            var fields = File.ReadAllText(record).Split(' ');
            // A damaged record is no record: the build then measures first, as without one.
            return fields.Length == 2
                && long.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes)
                && long.TryParse(fields[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var inodes)
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
            File.WriteAllText(record + ".tmp", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{usage.Bytes} {usage.Inodes}"));
            File.Move(record + ".tmp", record, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The root filesystem's label: the user's, or DIB's default for the filesystem type.</summary>
    public static string RootLabel(BuildRequest request) =>
        string.IsNullOrWhiteSpace(request.RootLabel) ? FileSystems.DefaultLabel(request.RootFileSystem) : request.RootLabel;

    /// <summary>The ESP's files leave the root tree (the ESP is mounted over the empty folder at boot).</summary>
    private static void MoveEspContent(string tree, string espContent, string bootMode, string architecture)
    {
        var source = Path.Combine(tree, EspDirectory);
        Directory.CreateDirectory(espContent);
        if (Directory.Exists(source))
        {
            // Copied, then removed: the tree may be an overlay mount, which a rename cannot leave.
            ProcessRunner.RunChecked(new ProcessSpec("cp", ["-a", "--", source + "/.", espContent]), null, CancellationToken.None);
            foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo dir)
                {
                    dir.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }
        }

        var (binary, package) = EfiBinary(architecture);
        if (BootModes.NeedsEfi(bootMode) && !File.Exists(Path.Combine(espContent, "EFI", "BOOT", binary)))
        {
            throw new DibException(
                DibCodes.NoBootloader,
                $"BootMode {bootMode} needs GRUB's EFI binary at /{EspDirectory}/EFI/BOOT/{binary} in the image. Add the 'vm' (or 'bootloader') element, which installs {package} and builds it.");
        }
    }

    /// <summary>The removable-media path UEFI firmware boots (EFI/BOOT/BOOT{machine}.EFI) and the GRUB package that builds it.</summary>
    public static (string Binary, string Package) EfiBinary(string architecture) =>
        architecture is "arm64" ? ("BOOTAA64.EFI", "grub-efi-arm64-bin") : ("BOOTX64.EFI", "grub-efi-amd64-bin");

    private static void RequireKernel(string tree)
    {
        var boot = Path.Combine(tree, "boot");
        if (!Directory.Exists(boot) || !Directory.EnumerateFiles(boot, "vmlinuz-*").Any())
        {
            throw new DibException(
                DibCodes.NoKernel,
                "The image has no kernel (/boot/vmlinuz-*), so a disk image cannot boot. The 'debian' element installs one (linux-image-cloud-amd64); with 'debian-minimal' add <Package Include=\"linux-image-amd64\" /> (DIB: -p linux-image-amd64).");
        }
    }

    /// <summary>Copies a filesystem image into its partition, skipping zero blocks so the disk stays sparse.</summary>
    private static void Place(string disk, string image, Partition partition, CancellationToken cancellationToken) =>
        Place(disk, image, partition.Offset, partition.Size, $"partition {partition.Number}", cancellationToken);

    /// <summary>Copies a filesystem image to <paramref name="at"/> bytes into the disk, skipping zero blocks so the disk stays sparse.</summary>
    internal static void Place(string disk, string image, long at, long room, string where, CancellationToken cancellationToken)
    {
        const int Chunk = 1024 * 1024;
        var buffer = new byte[Chunk];
        using var src = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, Chunk);
        using var dst = new FileStream(disk, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, Chunk); // the scratch disk's own handle stays open
        if (src.Length > room)
        {
            throw new DibException(DibCodes.PartitionLayoutDoesNotFit, $"{Path.GetFileName(image)} ({Mib(src.Length)}) does not fit {where} ({Mib(room)}).");
        }

        long offset = 0;
        int read;
        while ((read = src.Read(buffer, 0, Chunk)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = buffer.AsSpan(0, read);
            if (data.IndexOfAnyExcept((byte)0) >= 0)
            {
                dst.Position = at + offset;
                dst.Write(data);
            }

            offset += read;
        }
    }

    internal static void Convert(string raw, ImageFormat format, string destination, BuildRequest request, IBuildLog log, CancellationToken cancellationToken) =>
        Outputs.WriteAtomically(destination, log, partial =>
        {
            if (format.Name == "raw")
            {
                // cp keeps the holes; a plain copy would write every zero.
                ProcessRunner.RunChecked(new ProcessSpec("cp", ["--sparse=always", raw, partial]), null, cancellationToken);
                return;
            }

            if (format.Name == "qcow2" && !request.NoCompression && string.IsNullOrWhiteSpace(request.QemuImgOptions) && Qcow2Writer.Available())
            {
                var index = Path.Combine(request.CacheDirectory(), "qcow2-index", Fingerprint.Of(destination));
                var (reused, total, rejected) = Qcow2Writer.Write(raw, partial, destination, index, cancellationToken);
                log.Message(LogImportance.Normal, $"DiskImageBuilder: qcow2: {total} data clusters, {reused} of them unchanged and copied from the previous image");
                if (rejected > 0)
                {
                    log.Warning(new Diagnostic(
                        DibCodes.PreviousImageChanged,
                        $"{destination} was changed since it was built ({rejected} of its clusters no longer hold what was recorded): those clusters were compressed again, not copied."));
                }
                return;
            }

            var options = new List<string>();
            // -W: clusters may be written out of order, which lets the compressing coroutines run in parallel.
            var args = new List<string> { "convert", "-W", "-m", "16", "-f", "raw", "-O", format.QemuFormat! };
            switch (format.Name)
            {
                case "qcow2" when !request.NoCompression:
                    // zstd: measured ~5 s against ~43 s for zlib on a 1.5 GB Debian image.
                    args.Add("-c");
                    options.Add("compression_type=zstd");
                    break;
                case "vhd":
                    // Fixed-size VHD with the exact size: what Azure accepts.
                    options.Add("subformat=fixed,force_size=on");
                    break;
            }

            if (!string.IsNullOrWhiteSpace(request.QemuImgOptions))
            {
                options.Add(request.QemuImgOptions.Trim());
            }

            if (options.Count > 0)
            {
                args.AddRange(["-o", string.Join(',', options)]);
            }

            args.AddRange([raw, partial]);
            var result = ProcessRunner.Run(new ProcessSpec("qemu-img", args), line => log.Message(LogImportance.Low, "[qemu-img] " + line), cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new DibException(DibCodes.OutputFailed, $"qemu-img could not write {format.Name} ({string.Join(' ', args)}).{ProcessRunner.FormatTail(result.Tail)}");
            }
        });

    private static string Mib(long bytes) => $"{(bytes + FileSystems.MiB - 1) / FileSystems.MiB} MiB";
}
