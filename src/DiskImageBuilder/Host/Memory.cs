using System.Globalization;
using DiskImageBuilder.Request;

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
    /// tree in tmpfs: not with DIB_NO_TMPFS=1, not in a rootless build (its overlay keeps its own
    /// attributes in user.* xattrs, which older kernels' tmpfs lacks), and, as DIB's check, only with
    /// twice DIB_MIN_TMPFS (GiB, default 2) of RAM available (a tmpfs may grow to half of RAM).
    /// </summary>
    public static bool TreeInMemory(IReadOnlyDictionary<string, string> environment)
    {
        // Checked first, so a bad value is an error whether or not RAM would have been used.
        var minimum = environment.TryGetValue("DIB_MIN_TMPFS", out var gib) ? RequestValues.ParseCount(gib, "DIB_MIN_TMPFS", null) : 2;
        if (environment.GetValueOrDefault("DIB_NO_TMPFS") == "1" || UserNamespace.Current is not null)
        {
            return false;
        }

        return AvailableBytes() is { } available && available >= minimum * 2 * (1L << 30);
    }
}
