using System.Globalization;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Output;

/// <summary>
/// Reproducible builds' SOURCE_DATE_EPOCH: when set, the time every output records (container
/// configs, SBOMs, filesystem and archive timestamps, clamped to it); else outputs record now.
/// </summary>
internal static class BuildTime
{
    public const string Variable = "SOURCE_DATE_EPOCH";

    /// <summary>SOURCE_DATE_EPOCH of the request (or of this process), or null when unset.</summary>
    public static long? Epoch(BuildRequest request)
    {
        var epoch = request.Environment.GetValueOrDefault(Variable) ?? Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(epoch))
        {
            return null;
        }

        return long.TryParse(epoch.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? seconds
            : throw new DibException(
                DibCodes.InvalidSourceDateEpoch,
                $"{Variable}='{epoch}' is not a number of seconds since 1970-01-01 UTC. Set it to one (for example: git log -1 --format=%ct), or unset it.",
                request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile));
    }

    public static DateTimeOffset Of(BuildRequest request) =>
        Epoch(request) is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : DateTimeOffset.UtcNow;

    /// <summary>Every entry of the tree modified after the epoch gets the epoch as its time (links themselves, not their targets).</summary>
    /// <summary>
    /// Files that record when and in what order a build ran rather than what it installed: the
    /// package managers' logs and ldconfig's cache of file times (ldconfig makes it again). They
    /// differ between any two builds, so a reproducible image leaves them out (as mmdebstrap does
    /// with SOURCE_DATE_EPOCH).
    /// </summary>
    public static readonly IReadOnlyList<string> VolatileFiles =
    [
        "var/log/dpkg.log", "var/log/alternatives.log", "var/log/apt/history.log", "var/log/apt/term.log",
        "var/log/apt/eipp.log.xz", "var/cache/ldconfig/aux-cache",
    ];

    /// <summary>Removes <see cref="VolatileFiles"/>, then clamps every time in the tree to the epoch.</summary>
    public static void ClampTree(string tree, long epoch, CancellationToken cancellationToken)
    {
        foreach (var file in VolatileFiles.Select(f => Path.Combine(tree, f)).Where(f => File.Exists(f) && new FileInfo(f).LinkTarget is null))
        {
            File.Delete(file);
        }

        var at = "@" + epoch.ToString(CultureInfo.InvariantCulture);
        ProcessRunner.RunChecked(new ProcessSpec("find", [tree, "-xdev", "-newermt", at, "-exec", "touch", "-h", "-d", at, "{}", "+"]), null, cancellationToken);
    }
}
