using System.Globalization;

namespace DiskImageBuilder.Host;

/// <summary>What RAM the build may use for scratch space (tmpfs), as DIB decides it.</summary>
internal static class Memory
{
    /// <summary>MemAvailable in bytes; null where /proc/meminfo does not say.</summary>
    public static long? AvailableBytes()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// Whether each step's changes are written in RAM before they are kept on disk, as DIB builds its
    /// tree in tmpfs: not with DIB_NO_TMPFS=1 (<paramref name="noTmpfs"/>), not in a rootless build
    /// (its overlay keeps its own attributes in user.* xattrs, which older kernels' tmpfs lacks), and,
    /// as DIB's check, only with twice <paramref name="minimumGib"/> (DIB_MIN_TMPFS) of RAM available
    /// (a tmpfs may grow to half of RAM).
    /// </summary>
    public static bool TreeInMemory(bool noTmpfs, long minimumGib) =>
        !noTmpfs && UserNamespace.Current is null && AvailableBytes() is { } available && available >= minimumGib * 2 * (1L << 30);
}
