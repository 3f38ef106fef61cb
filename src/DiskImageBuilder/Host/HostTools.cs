namespace DiskImageBuilder.Host;

/// <summary>
/// Checks, before any work, that every host program the build needs is installed. The engine's own
/// tools are listed here; elements list theirs in a host-tools file.
/// </summary>
internal static class HostTools
{
    /// <summary>What the engine itself runs: namespaces and mounts for phases, tar for outputs.</summary>
    public static readonly IReadOnlyList<HostTool> Engine =
    [
        new("unshare", "util-linux"),
        new("nsenter", "util-linux"),
        new("setpriv", "util-linux"),
        new("setsid", "util-linux"),
        new("mount", "mount"),
        new("chroot", "coreutils"),
        new("mknod", "coreutils"),
        new("bash", "bash"),
        new("perl", "perl-base"),
        new("tar", "tar"),
        new("rm", "coreutils"),
    ];

    /// <summary>Throws one error listing every missing program and the packages that provide them.</summary>
    public static void Check(IEnumerable<HostTool> tools, Func<string, string?>? find = null)
    {
        find ??= c => ProcessRunner.FindOnPath(c);
        var missing = tools.DistinctBy(t => t.Command).Where(t => find(t.Command) is null).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var packages = string.Join(' ', missing.Select(t => t.Package).Distinct().Order(StringComparer.Ordinal));
        throw new DibException(
            DibCodes.MissingHostTools,
            $"Missing host programs: {string.Join(", ", missing.Select(t => t.Command))}. Install them with: apt-get install -y {packages}");
    }
}
