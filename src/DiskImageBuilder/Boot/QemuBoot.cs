using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Boot;

/// <summary>
/// Starts a built image under qemu with its serial console on standard output: for the Boot
/// target (a person watching) and the boot tests (a program reading). The image is opened with
/// snapshot=on, so booting never changes the built file.
/// </summary>
public static class QemuBoot
{
    public const string OvmfCode = "/usr/share/OVMF/OVMF_CODE.fd";
    public const string OvmfVars = "/usr/share/OVMF/OVMF_VARS.fd";

    /// <summary>Debian's UEFI firmware for arm64 virtual machines (qemu-efi-aarch64), padded to the 64 MiB flash of qemu's virt machine.</summary>
    public const string AavmfCode = "/usr/share/AAVMF/AAVMF_CODE.fd";
    public const string AavmfVars = "/usr/share/AAVMF/AAVMF_VARS.fd";

    public static readonly IReadOnlyList<HostTool> Tools = [new("qemu-system-x86_64", "qemu-system-x86"), new("qemu-img", "qemu-utils")];

    /// <summary>What boots an arm64 image: the emulator of the virt machine and its UEFI firmware.</summary>
    public static readonly IReadOnlyList<HostTool> Arm64Tools = [new("qemu-system-aarch64", "qemu-system-arm"), new("qemu-img", "qemu-utils"), new(AavmfCode, "qemu-efi-aarch64")];

    /// <param name="scratch">A folder for the UEFI variable store copy.</param>
    public static ProcessSpec Command(BootOptions options, string scratch)
    {
        ArgumentNullException.ThrowIfNull(options);
        var arm64 = options.Architecture == "arm64";
        var missing = (arm64 ? Arm64Tools : Tools).ToList();
        if (arm64 && options.Firmware != BootOptions.Ovmf)
        {
            throw new DibException(DibCodes.ArchitectureBootMode, $"Firmware '{options.Firmware}' cannot boot arm64: arm64 machines boot by UEFI only. Remove BootFirmware or set it to 'uefi'.");
        }

        if (options.Firmware == BootOptions.Ovmf && !arm64)
        {
            missing.Add(new HostTool(OvmfCode, "ovmf"));
        }

        HostTools.Check(missing);
        foreach (var file in ((string?[])[options.Image.Length > 0 ? options.Image : null, options.Kernel, options.Initrd]).OfType<string>())
        {
            if (!File.Exists(file))
            {
                throw new DibException(DibCodes.BootFailed, $"No image to boot at {file}: build it first.");
            }
        }

        var format = Path.GetExtension(options.Image).TrimStart('.') switch
        {
            "qcow2" => "qcow2",
            "vhd" => "vpc",
            "vmdk" => "vmdk",
            _ => "raw",
        };
        var net = "user,id=net0" + string.Concat(options.PortForwards.Select(p => $",hostfwd=tcp:127.0.0.1:{p.Host}-:{p.Guest}"));
        var args = new List<string>();
        if (arm64)
        {
            // qemu's generic arm64 board, every CPU feature TCG emulates (Debian's arm64 kernel runs on any).
            // Pointer authentication with qemu's own algorithm, not QARMA5, which TCG emulates slowly and
            // the kernel runs on every call: its boot to the root mount takes 3 s instead of 13-17 s.
            args.AddRange(["-M", "virt", "-cpu", "max,pauth-impdef=on"]);
        }

        args.AddRange(new List<string>
        {
            "-accel", options.Accelerator, "-m", options.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", "2", "-no-reboot",
            "-netdev", net, "-device", "virtio-net-pci,netdev=net0",
        });
        if (options.Image.EndsWith(".iso", StringComparison.Ordinal))
        {
            args.AddRange(["-drive", $"file={options.Image},media=cdrom,readonly=on"]);
        }
        else if (options.Image.Length > 0)
        {
            args.AddRange(["-drive", $"file={options.Image},format={format},if=virtio,snapshot=on"]);
        }

        if (options.Kernel is not null)
        {
            args.AddRange(["-kernel", options.Kernel, "-append", options.KernelArgs]);
            if (options.Initrd is not null)
            {
                args.AddRange(["-initrd", options.Initrd]);
            }
        }
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
            var (code, template) = arm64 ? (AavmfCode, AavmfVars) : (OvmfCode, OvmfVars);
            var vars = Path.Combine(scratch, Path.GetFileName(template));
            File.Copy(template, vars, overwrite: true);
            args.AddRange([
                "-drive", $"if=pflash,format=raw,readonly=on,file={code}",
                "-drive", $"if=pflash,format=raw,file={vars}",
            ]);
        }

        return new ProcessSpec(arm64 ? "qemu-system-aarch64" : "qemu-system-x86_64", args) { TailLines = 200 };
    }

    /// <summary>The firmware that boots a layout by default: SeaBIOS for bios and hybrid, OVMF for uefi.</summary>
    public static string FirmwareFor(string bootMode) => bootMode == BootModes.Uefi ? BootOptions.Ovmf : BootOptions.SeaBios;

    /// <summary>The boot mode of an image of <paramref name="architecture"/> when none was set: arm64 has UEFI only.</summary>
    public static string DefaultBootMode(string architecture) => architecture == "arm64" ? BootModes.Uefi : BootModes.Bios;
}
