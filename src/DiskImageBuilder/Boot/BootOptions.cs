namespace DiskImageBuilder.Boot;

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
}
