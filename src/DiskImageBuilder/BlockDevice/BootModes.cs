using System.Security.Cryptography;

namespace DiskImageBuilder.BlockDevice;

/// <summary>How the disk boots: the partition table and the partitions it gets.</summary>
public static class BootModes
{
    public const string Bios = "bios";
    public const string Uefi = "uefi";
    public const string Hybrid = "hybrid";

    public static readonly IReadOnlyList<string> Known = [Bios, Uefi, Hybrid];

    public static string Normalize(string? mode, SourceLocation? location)
    {
        var m = string.IsNullOrWhiteSpace(mode) ? Bios : mode.Trim().ToLowerInvariant();
        return Known.Contains(m)
            ? m
            : throw new DibException(DibCodes.InvalidProperty, $"Unknown BootMode '{mode}'. Valid: {string.Join(", ", Known)}.", location);
    }

    /// <summary>A BootMode as given: empty stays empty (the block-device element chooses), anything else must be known.</summary>
    public static string NormalizeChoice(string? mode, SourceLocation? location) =>
        string.IsNullOrWhiteSpace(mode) ? string.Empty : Normalize(mode, location);

    public static bool NeedsEfi(string mode) => mode is Uefi or Hybrid;

    /// <summary>The boot modes an architecture's firmware has: arm64 machines boot by UEFI only (no BIOS, no boot sector).</summary>
    public static void CheckArchitecture(string mode, string architecture, SourceLocation? location)
    {
        if (architecture is "arm64" && NeedsBios(mode))
        {
            throw new DibException(
                DibCodes.ArchitectureBootMode,
                $"BootMode '{mode}' needs a BIOS, and arm64 machines boot by UEFI only. Remove the BootMode property (DIB_BOOT_MODE), which is 'uefi' for arm64, or set it to 'uefi'.",
                location);
        }
    }

    /// <summary>
    /// Each boot mode as a named block-device configuration, in the same YAML and model as any other
    /// layout (<see cref="BlockDeviceConfigParser"/>); the ESP and BIOS boot sizes are the engine's
    /// (<see cref="DiskImage.EspSize"/>, <see cref="DiskImage.BiosBootSize"/>), assembled like any other (<see cref="Config"/>).
    /// </summary>
    public static string Layout(string mode)
    {
        const string RootPart = "{name: root, size: 100%, mkfs: {name: mkfs_root, mount: {mount_point: /, fstab: {fsck-passno: 1}}}}";
        const string EspPart = "{name: ESP, type: EF00, size: 64MiB, mkfs: {type: vfat, label: ESP, mount: {mount_point: /boot/efi, fstab: {}}}}";
        const string BiosPart = "{name: BIOS, type: EF02, size: 1MiB}";
        var partitions = Normalize(mode, null) switch
        {
            Bios => [RootPart.Replace("size: 100%", "flags: [boot, primary], size: 100%", StringComparison.Ordinal)],
            Uefi => [EspPart, RootPart],
            _ => new[] { BiosPart, EspPart, RootPart },
        };
        return $"- local_loop: {{name: image0}}\n- partitioning:\n    base: image0\n    label: {(NeedsEfi(mode) ? "gpt" : "mbr")}\n    partitions:\n{string.Concat(partitions.Select(p => $"      - {p}\n"))}";
    }

    public static bool NeedsBios(string mode) => mode is Bios or Hybrid;

    /// <summary>The boot mode's layout in the model every layout is assembled from (<see cref="LayoutDisk"/>).</summary>
    internal static BlockDeviceConfig Config(string mode, RootDefaults root) =>
        BlockDeviceConfigParser.Parse(Layout(mode), $"BootMode {Normalize(mode, null)}", root);
}
