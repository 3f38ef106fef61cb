using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using DiskImageBuilder.Request;
using Microsoft.Build.Framework;

namespace DiskImageBuilder.Tasks;

/// <summary>
/// Boots the built disk image under qemu with its serial console: on a terminal the user gets the
/// console itself (quit with Ctrl-a x); otherwise the console streams into the build log.
/// </summary>
public sealed class BootImage : CancelableEngineTask
{
    /// <summary>The image outputs; the first disk image among them boots.</summary>
    [Required]
    public ITaskItem[] Images { get; set; } = [];

    public string? BootMode { get; set; }

    /// <summary>The image's architecture: arm64 boots on qemu-system-aarch64 with UEFI.</summary>
    public string? Architecture { get; set; }

    /// <summary>bios (SeaBIOS) or uefi (OVMF); empty: what the boot mode needs.</summary>
    public string? Firmware { get; set; }

    /// <summary>tcg, kvm or kvm:tcg.</summary>
    public string? Accelerator { get; set; }

    /// <summary>The project, where a bad BootMemory or BootTimeout points.</summary>
    public string? ProjectFile { get; set; }

    /// <summary>MiB of guest memory (BootMemory). A string, so a typo is DIB0021 at the project's line, not MSB4030.</summary>
    public string? MemoryMiB { get; set; }

    /// <summary>Items "HOSTPORT" with metadata GuestPort: forwarded from 127.0.0.1.</summary>
    public ITaskItem[] PortForwards { get; set; } = [];

    /// <summary>Seconds after which the VM is stopped (0: run until it exits); a smoke boot for CI.</summary>
    public string? TimeoutSeconds { get; set; }

    [Required]
    public string ScratchDirectory { get; set; } = string.Empty;

    private protected override void Run(MSBuildLog log, CancellationToken cancellationToken)
    {
        var project = string.IsNullOrEmpty(ProjectFile) ? null : Path.GetFullPath(ProjectFile);
        SourceLocation? At(string property) => project is null ? null : PrepareImage.PropertyLocation(project, property);
        var memory = string.IsNullOrWhiteSpace(MemoryMiB) ? 1024 : (int)RequestValues.ParseCount(MemoryMiB, "BootMemory", At("BootMemory"));
        var timeoutSeconds = string.IsNullOrWhiteSpace(TimeoutSeconds) ? 0 : RequestValues.ParseCount(TimeoutSeconds, "BootTimeout", At("BootTimeout"), allowZero: true);
        var images = Images.Select(i => i.GetMetadata("FullPath")).ToList();
        string? WithExtension(string extension) => images.FirstOrDefault(p => p.EndsWith("." + extension, StringComparison.Ordinal));

        // A ramdisk (ImageType=ramdisk) boots from its kernel and initramfs, with no disk.
        var kernel = WithExtension(Ramdisk.KernelExtension);
        var disk = kernel is not null ? string.Empty
            : images.FirstOrDefault(p => ImageFormats.Known.Any(f => f.IsDisk && p.EndsWith("." + f.Extension, StringComparison.Ordinal)))
            ?? throw new DibException(DibCodes.BootFailed, "Nothing to boot: ImageFormat has no disk format (qcow2, raw, vhd or vmdk).");
        var architecture = Architectures.Normalize(Architecture, At("Architecture"));
        var mode = BootModes.Normalize(string.IsNullOrWhiteSpace(BootMode) ? QemuBoot.DefaultBootMode(architecture) : BootMode, At("BootMode"));
        BootModes.CheckArchitecture(mode, architecture, At("BootMode"));
        var options = new BootOptions(disk, string.IsNullOrWhiteSpace(Firmware) ? QemuBoot.FirmwareFor(mode) : Firmware.Trim())
        {
            Architecture = architecture,
            Kernel = kernel,
            Initrd = WithExtension(Ramdisk.InitramfsExtension),
            Accelerator = string.IsNullOrWhiteSpace(Accelerator) ? "tcg" : Accelerator.Trim(),
            MemoryMiB = memory,
            PortForwards = [.. PortForwards.Select(p => (int.Parse(p.ItemSpec, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p.GetMetadata("GuestPort").DefaultIfEmpty(p.ItemSpec), System.Globalization.CultureInfo.InvariantCulture)))],
        };
        var interactive = !Console.IsInputRedirected && !Console.IsOutputRedirected;
        var spec = QemuBoot.Command(options, ScratchDirectory) with { Interactive = interactive };
        log.Message(LogImportance.High, $"DiskImageBuilder: booting {(kernel is null ? disk : $"{kernel} with {options.Initrd}")} ({options.Firmware}, {options.Accelerator}){(interactive ? "; quit with Ctrl-a x" : string.Empty)}");
        using var timeout = new CancellationTokenSource();
        if (timeoutSeconds > 0)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        }

        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        ProcessResult result;
        try
        {
            result = ProcessRunner.Run(spec, line => log.Message(LogImportance.High, line), either.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            log.Message(LogImportance.High, $"DiskImageBuilder: stopped the VM after BootTimeout={timeoutSeconds} s");
            return;
        }

        if (result.ExitCode != 0)
        {
            throw new DibException(DibCodes.BootFailed, $"qemu exited with code {result.ExitCode}.{ProcessRunner.FormatTail(result.Tail)}");
        }
    }
}
