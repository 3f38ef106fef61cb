using DiskImageBuilder.Host;
using DiskImageBuilder.Output;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// What every disk shares: the host programs, the root label, the ESP's place and the conversion of
/// the raw disk into each format. The disk itself is its layout's (<see cref="LayoutDisk"/>), the
/// BootMode layouts' too (<see cref="BootModes.Config"/>).
/// </summary>
internal static class DiskImage
{
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

    /// <summary>The root filesystem's label: the user's, or DIB's default for the filesystem type.</summary>
    public static string RootLabel(BuildRequest request) =>
        string.IsNullOrWhiteSpace(request.RootLabel) ? FileSystems.DefaultLabel(request.RootFileSystem) : request.RootLabel;

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

    /// <summary>The removable-media path UEFI firmware boots (EFI/BOOT/BOOT{machine}.EFI) and the GRUB package that builds it.</summary>
    public static (string Binary, string Package) EfiBinary(string architecture) =>
        architecture is "arm64" ? ("BOOTAA64.EFI", "grub-efi-arm64-bin") : ("BOOTX64.EFI", "grub-efi-amd64-bin");
}
