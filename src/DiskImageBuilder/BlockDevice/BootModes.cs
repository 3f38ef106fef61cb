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

    public static bool NeedsEfi(string mode) => mode is Uefi or Hybrid;

    public static bool NeedsBios(string mode) => mode is Bios or Hybrid;
}
