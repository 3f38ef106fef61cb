namespace DiskImageBuilder.BlockDevice;

/// <summary>What to boot and how: the image, its firmware, and host ports forwarded to the guest.</summary>
public sealed record BootOptions(string Image, string Firmware)
{
    public const string SeaBios = "bios";
    public const string Ovmf = "uefi";

    /// <summary>tcg (software, works everywhere) or kvm; "kvm:tcg" lets qemu fall back.</summary>
    public string Accelerator { get; init; } = "tcg";

    public int MemoryMiB { get; init; } = 1024;

    /// <summary>Host port on 127.0.0.1 to guest port, over qemu's user network.</summary>
    public IReadOnlyList<(int Host, int Guest)> PortForwards { get; init; } = [];

    /// <summary>Write the serial console to this file instead of standard output (for programs that
    /// wait for a prompt: a login prompt ends with no newline, so line readers never see it).</summary>
    public string? SerialLog { get; init; }

    /// <summary>Also offer the serial console on this Unix socket (qemu listens), so a program can
    /// type on it; <see cref="SerialLog"/> then still records everything the guest printed.</summary>
    public string? SerialSocket { get; init; }

    /// <summary>More disks, read-only virtio raw images (e.g. a cloud-init NoCloud seed).</summary>
    public IReadOnlyList<string> ExtraDisks { get; init; } = [];

    /// <summary>More NICs, each on a user network of its own (10.0.3.0/24, 10.0.4.0/24, ...), so
    /// replies to the first NIC's forwarded ports never leave through them.</summary>
    public int ExtraNics { get; init; }
}

/// <summary>
/// Starts a built image under qemu with its serial console on standard output: for the Boot
/// target (a person watching) and the boot tests (a program reading). The image is opened with
/// snapshot=on, so booting never changes the built file.
/// </summary>
public static class QemuBoot
{
    public const string OvmfCode = "/usr/share/OVMF/OVMF_CODE.fd";
    public const string OvmfVars = "/usr/share/OVMF/OVMF_VARS.fd";

    public static readonly IReadOnlyList<HostTool> Tools = [new("qemu-system-x86_64", "qemu-system-x86"), new("qemu-img", "qemu-utils")];

    /// <param name="scratch">A folder for the UEFI variable store copy.</param>
    public static ProcessSpec Command(BootOptions options, string scratch)
    {
        var missing = Tools.ToList();
        if (options.Firmware == BootOptions.Ovmf)
        {
            missing.Add(new HostTool(OvmfCode, "ovmf"));
        }

        HostTools.Check(missing);
        if (!File.Exists(options.Image))
        {
            throw new DibException(DibCodes.BootFailed, $"No image to boot at {options.Image}: build it first.");
        }

        var format = Path.GetExtension(options.Image).TrimStart('.') switch
        {
            "qcow2" => "qcow2",
            "vhd" => "vpc",
            "vmdk" => "vmdk",
            _ => "raw",
        };
        var net = "user,id=net0" + string.Concat(options.PortForwards.Select(p => $",hostfwd=tcp:127.0.0.1:{p.Host}-:{p.Guest}"));
        var args = new List<string>
        {
            "-accel", options.Accelerator, "-m", options.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", "2", "-no-reboot",
            "-drive", $"file={options.Image},format={format},if=virtio,snapshot=on",
            "-netdev", net, "-device", "virtio-net-pci,netdev=net0",
        };
        foreach (var disk in options.ExtraDisks)
        {
            args.AddRange(["-drive", $"file={disk},format=raw,if=virtio,readonly=on"]);
        }

        for (var n = 1; n <= options.ExtraNics; n++)
        {
            args.AddRange(["-netdev", $"user,id=net{n},net=10.0.{n + 2}.0/24", "-device", $"virtio-net-pci,netdev=net{n}"]);
        }

        if (options.SerialSocket is not null)
        {
            var log = options.SerialLog is null ? string.Empty : $",logfile={options.SerialLog}";
            args.AddRange(["-display", "none", "-monitor", "none",
                "-chardev", $"socket,id=serial0,path={options.SerialSocket},server=on,wait=off{log}", "-serial", "chardev:serial0"]);
        }
        else
        {
            args.AddRange(options.SerialLog is null ? ["-nographic"] : ["-display", "none", "-monitor", "none", "-serial", $"file:{options.SerialLog}"]);
        }

        if (options.Firmware == BootOptions.Ovmf)
        {
            Directory.CreateDirectory(scratch);
            var vars = Path.Combine(scratch, "OVMF_VARS.fd");
            File.Copy(OvmfVars, vars, overwrite: true);
            args.AddRange([
                "-drive", $"if=pflash,format=raw,readonly=on,file={OvmfCode}",
                "-drive", $"if=pflash,format=raw,file={vars}",
            ]);
        }

        return new ProcessSpec("qemu-system-x86_64", args) { TailLines = 200 };
    }

    /// <summary>The firmware that boots a layout by default: SeaBIOS for bios and hybrid, OVMF for uefi.</summary>
    public static string FirmwareFor(string bootMode) => bootMode == BootModes.Uefi ? BootOptions.Ovmf : BootOptions.SeaBios;
}
