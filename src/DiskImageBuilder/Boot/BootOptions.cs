namespace DiskImageBuilder.Boot;

/// <summary>What to boot and how: the image, its firmware, and host ports forwarded to the guest.</summary>
/// <param name="Image">The disk image; empty for a ramdisk booted from <see cref="Kernel"/> alone.</param>
public sealed record BootOptions(string Image, string Firmware)
{
    /// <summary>A kernel qemu loads itself (-kernel), with <see cref="Initrd"/> and <see cref="KernelArgs"/>: ramdisks, and disk images whose kernel is outside them (baremetal).</summary>
    public string? Kernel { get; init; }

    public string? Initrd { get; init; }

    /// <summary>The kernel command line (-append); the serial console by default.</summary>
    public string KernelArgs { get; init; } = "console=ttyS0";

    /// <summary>The guest's architecture (Debian's name): amd64 boots on qemu-system-x86_64, arm64 on qemu-system-aarch64's virt machine.</summary>
    public string Architecture { get; init; } = "amd64";

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
