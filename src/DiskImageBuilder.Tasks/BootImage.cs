using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
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

    /// <summary>bios (SeaBIOS) or uefi (OVMF); empty: what the boot mode needs.</summary>
    public string? Firmware { get; set; }

    /// <summary>tcg, kvm or kvm:tcg.</summary>
    public string? Accelerator { get; set; }

    public int MemoryMiB { get; set; } = 1024;

    /// <summary>Items "HOSTPORT" with metadata GuestPort: forwarded from 127.0.0.1.</summary>
    public ITaskItem[] PortForwards { get; set; } = [];

    /// <summary>Seconds after which the VM is stopped (0: run until it exits); a smoke boot for CI.</summary>
    public int TimeoutSeconds { get; set; }

    [Required]
    public string ScratchDirectory { get; set; } = string.Empty;

    private protected override void Run(MSBuildLog log, CancellationToken cancellationToken)
    {
        var disk = Images.Select(i => i.GetMetadata("FullPath"))
            .FirstOrDefault(p => ImageFormats.Known.Any(f => f.IsDisk && p.EndsWith("." + f.Extension, StringComparison.Ordinal)))
            ?? throw new DibException(DibCodes.BootFailed, "Nothing to boot: ImageFormat has no disk format (qcow2, raw, vhd or vmdk).");
        var mode = BootModes.Normalize(BootMode, null);
        var options = new BootOptions(disk, string.IsNullOrWhiteSpace(Firmware) ? QemuBoot.FirmwareFor(mode) : Firmware.Trim())
        {
            Accelerator = string.IsNullOrWhiteSpace(Accelerator) ? "tcg" : Accelerator.Trim(),
            MemoryMiB = MemoryMiB,
            PortForwards = [.. PortForwards.Select(p => (int.Parse(p.ItemSpec, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p.GetMetadata("GuestPort").DefaultIfEmpty(p.ItemSpec), System.Globalization.CultureInfo.InvariantCulture)))],
        };
        var interactive = !Console.IsInputRedirected && !Console.IsOutputRedirected;
        var spec = QemuBoot.Command(options, ScratchDirectory) with { Interactive = interactive };
        log.Message(LogImportance.High, $"DiskImageBuilder: booting {disk} ({options.Firmware}, {options.Accelerator}){(interactive ? "; quit with Ctrl-a x" : string.Empty)}");
        using var timeout = new CancellationTokenSource();
        if (TimeoutSeconds > 0)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(TimeoutSeconds));
        }

        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        ProcessResult result;
        try
        {
            result = ProcessRunner.Run(spec, line => log.Message(LogImportance.High, line), either.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            log.Message(LogImportance.High, $"DiskImageBuilder: stopped the VM after BootTimeout={TimeoutSeconds} s");
            return;
        }

        if (result.ExitCode != 0)
        {
            throw new DibException(DibCodes.BootFailed, $"qemu exited with code {result.ExitCode}.{ProcessRunner.FormatTail(result.Tail)}");
        }
    }
}
