using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A disk that is one filesystem and nothing else: what diskimage-builder writes when no element
/// provides `block-device` (its default layout puts the filesystem straight on the loop device).
/// Used for a tree with no OS to boot (no kernel and no /bin/sh, like DIB's fake-os test element),
/// which has no bootloader to place; a tree with an OS keeps the partitioned disk and its checks.
/// </summary>
internal static class FileSystemDisk
{
    /// <summary>Whether the tree's disk formats are a bare filesystem.</summary>
    public static bool Applies(string tree, ResolvedElements elements)
    {
        var boot = Path.Combine(tree, "boot");
        var hasKernel = Directory.Exists(boot) && Directory.EnumerateFiles(boot, "vmlinuz-*").Any();
        return !hasKernel && !Outputs.HasShell(tree) && !elements.Providers.ContainsKey(BlockDeviceChoice.Provided);
    }

    /// <param name="minimumSize">The size hooks were told (DIB_IMAGE_SIZE): the disk is at least that large.</param>
    public static IReadOnlyList<string> Create(
        BuildRequest request, string tree, string work, IReadOnlyList<ImageFormat> formats, IBuildLog log, long? minimumSize, CancellationToken cancellationToken)
    {
        var usage = FileSystems.Usage(tree, cancellationToken);
        var needed = FileSystems.RequiredRootSize(usage.Bytes, usage.Inodes, request.RootFileSystem);
        var size = request.ImageSize is { } wanted ? (wanted + FileSystems.MiB - 1) / FileSystems.MiB * FileSystems.MiB : Math.Max(needed, minimumSize ?? 0);
        if (size < needed)
        {
            throw new DibException(
                DibCodes.ImageTooSmall,
                $"ImageSize {size / FileSystems.MiB} MiB cannot hold the image: the tree uses {usage.Bytes / FileSystems.MiB} MiB in {usage.Inodes} files and needs at least {needed / FileSystems.MiB} MiB.",
                request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile));
        }

        var label = DiskImage.RootLabel(request);
        log.Message(LogImportance.Normal, $"DiskImageBuilder: no kernel, no shell and no block-device element: the disk is one {request.RootFileSystem} filesystem of {size / FileSystems.MiB} MiB, no partition table (DIB's default layout)");
        ScratchDisk? disk = null;
        string raw;
        if (request.RootFileSystem == FileSystems.Xfs)
        {
            raw = Path.Combine(work, "root.xfs");
            FileSystems.MakeXfs(raw, tree, Path.Combine(work, "xfs-mount"), size, label, request.MkfsOptions, log, cancellationToken);
        }
        else
        {
            disk = ScratchDisk.Create(work, size, usage.Bytes, request.Environment.GetValueOrDefault("DIB_NO_TMPFS") != "1");
            raw = disk.Path;
        }

        using var owned = disk;
        if (disk is not null)
        {
            var uuid = StableGuid.From($"{request.ImageName}/{label}/filesystem");
            FileSystems.MakeExt4(
                raw, 0, tree, size, label, uuid, FileSystems.Ext4InodeCount(usage.Inodes, size, request.MkfsOptions), request.MaxOnlineResize, request.MkfsOptions, log, cancellationToken, BuildTime.Epoch(request));
        }

        var outputs = new List<string>();
        foreach (var format in formats.Where(f => f.IsDisk))
        {
            var destination = Outputs.PathOf(request, format);
            DiskImage.Convert(raw, format, destination, request, log, cancellationToken);
            outputs.Add(destination);
        }

        return outputs;
    }
}
