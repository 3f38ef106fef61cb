using System.Text.Json;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// disk-image-get-kernel: the kernel and initial ramdisk of a built disk image, read without
/// mounting anything (DIB mounted the image with qemu-nbd). The image is read as raw (qemu-img
/// converts other formats to a sparse file), its partitions from the table (sfdisk), and each
/// ext2/3/4 partition's /boot (or the root of a separate /boot filesystem) with debugfs at the
/// partition's offset. The newest kernel by version and the initrd of the same version are chosen,
/// as the baremetal element chooses them.
/// </summary>
public static partial class DiskKernel
{
    public static IReadOnlyList<HostTool> Tools { get; } =
        [new("qemu-img", "qemu-utils"), new("sfdisk", "fdisk"), new("debugfs", "e2fsprogs"), new("blkid", "util-linux")];

    /// <summary>Writes OUTDIR/PREFIX-vmlinuz and OUTDIR/PREFIX-initrd (DIB's names); returns the two paths.</summary>
    public static IReadOnlyList<string> Extract(string image, string outDir, string prefix, string scratch, IBuildLog log, CancellationToken cancellationToken)
    {
        HostTools.Check(Tools);
        if (!File.Exists(image))
        {
            throw new DibException(DibCodes.GetKernelFailed, $"Image file {image} does not exist or is not readable.");
        }

        Directory.CreateDirectory(scratch);
        var raw = Raw(image, scratch, cancellationToken);
        foreach (var (offset, name) in Filesystems(raw, cancellationToken))
        {
            var device = $"{raw}?offset={offset}";
            if (!IsExt(raw, offset, cancellationToken))
            {
                log.Message(LogImportance.Low, $"disk-image-get-kernel: {name} is no ext2/3/4 filesystem: skipped");
                continue;
            }

            // A root filesystem has its kernels in /boot; a separate /boot filesystem at its top.
            foreach (var folder in (string[])["/boot", "/"])
            {
                var files = List(device, folder, cancellationToken);
                var kernel = Newest(files.Where(f => f.StartsWith("vmlinuz-", StringComparison.Ordinal) || f.StartsWith("vmlinux-", StringComparison.Ordinal)));
                if (kernel is null)
                {
                    continue;
                }

                var version = kernel[(kernel.IndexOf('-', StringComparison.Ordinal) + 1)..];
                var initrd = files.FirstOrDefault(f => f == $"initrd.img-{version}" || f == $"initramfs-{version}.img")
                    ?? throw new DibException(DibCodes.GetKernelFailed, $"{image}: {name} has the kernel {folder.TrimEnd('/')}/{kernel} but no initial ramdisk for version {version} (initrd.img-{version}).");
                Directory.CreateDirectory(outDir);
                var outputs = new[] { (kernel, Path.Combine(outDir, $"{prefix}-vmlinuz")), (initrd, Path.Combine(outDir, $"{prefix}-initrd")) };
                foreach (var (file, destination) in outputs)
                {
                    var source = $"{folder.TrimEnd('/')}/{file}";
                    File.Delete(destination);
                    Debugfs(device, $"dump -p {source} {destination}", cancellationToken);
                    if (!File.Exists(destination))
                    {
                        throw new DibException(DibCodes.GetKernelFailed, $"debugfs could not read {source} from {name} of {image}.");
                    }

                    File.SetUnixFileMode(destination, (UnixFileMode)0b110_100_100);
                    log.Message(LogImportance.High, $"disk-image-get-kernel: {name}:{source} -> {destination}");
                }

                return [.. outputs.Select(o => o.Item2)];
            }
        }

        throw new DibException(
            DibCodes.GetKernelFailed,
            $"{image} has no ext2/3/4 filesystem with a kernel in /boot (vmlinuz-*). Images on xfs or LVM are not read here: build with the baremetal element, which writes IMAGE.vmlinuz and IMAGE.initrd beside the image.");
    }

    // A raw image is read as it is; anything else qemu-img knows becomes a sparse raw copy.
    private static string Raw(string image, string scratch, CancellationToken cancellationToken)
    {
        var info = ProcessRunner.Run(new ProcessSpec("qemu-img", ["info", "--output=json", image]) { TailLines = 1000 }, null, cancellationToken);
        var format = info.ExitCode == 0 ? JsonDocument.Parse(info.TailText).RootElement.GetProperty("format").GetString() : null;
        if (format is null)
        {
            throw new DibException(DibCodes.GetKernelFailed, $"{image} is no disk image qemu-img can read.{ProcessRunner.FormatTail(info.Tail)}");
        }

        if (format == "raw")
        {
            return image;
        }

        var raw = Path.Combine(scratch, "image.raw");
        ProcessRunner.RunChecked(new ProcessSpec("qemu-img", ["convert", "-O", "raw", image, raw]), null, cancellationToken);
        return raw;
    }

    // Byte offsets of the partitions (or of the whole disk, for an image without a table).
    private static IEnumerable<(long Offset, string Name)> Filesystems(string raw, CancellationToken cancellationToken)
    {
        var table = ProcessRunner.Run(new ProcessSpec("sfdisk", ["--json", raw]) { TailLines = 10000 }, null, cancellationToken);
        if (table.ExitCode != 0 || table.Tail.Count == 0)
        {
            return [(0, "the whole disk")];
        }

        var json = JsonDocument.Parse(table.TailText).RootElement.GetProperty("partitiontable");
        var sectorSize = json.TryGetProperty("sectorsize", out var s) ? s.GetInt64() : 512;
        return [.. json.GetProperty("partitions").EnumerateArray()
            .Select((p, i) => (p.GetProperty("start").GetInt64() * sectorSize, $"partition {i + 1}"))];
    }

    private static bool IsExt(string raw, long offset, CancellationToken cancellationToken)
    {
        var probe = ProcessRunner.Run(new ProcessSpec("blkid", ["-p", "-O", offset.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "value", "-s", "TYPE", raw]), null, cancellationToken);
        return probe.ExitCode == 0 && probe.Tail.Any(l => l.Trim() is "ext2" or "ext3" or "ext4");
    }

    private static List<string> List(string device, string folder, CancellationToken cancellationToken) =>
        [.. Debugfs(device, $"ls -p {folder}", cancellationToken)
            .Select(line => line.Split('/'))
            .Where(f => f.Length >= 6 && f[2].StartsWith("100", StringComparison.Ordinal)) // "/INODE/MODE/UID/GID/NAME/SIZE/": regular files
            .Select(f => f[5])];

    private static IReadOnlyList<string> Debugfs(string device, string request, CancellationToken cancellationToken)
    {
        var result = ProcessRunner.Run(new ProcessSpec("debugfs", ["-R", request, device]) { TailLines = 100000 }, null, cancellationToken);
        return result.ExitCode == 0 ? result.Tail : [];
    }

    /// <summary>The highest version (vmlinuz-6.1.0-10 before vmlinuz-6.1.0-9), as `ls -v` orders them.</summary>
    internal static string? Newest(IEnumerable<string> names) =>
        names.OrderByDescending(n => VersionKey().Replace(n, m => m.Value.PadLeft(12, '0')), StringComparer.Ordinal).FirstOrDefault();

    [GeneratedRegex(@"\d+", RegexOptions.CultureInvariant)]
    private static partial Regex VersionKey();
}
