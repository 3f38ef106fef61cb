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
    public static void ClampTree(string tree, long epoch, CancellationToken cancellationToken)
    {
        var at = "@" + epoch.ToString(CultureInfo.InvariantCulture);
        ProcessRunner.RunChecked(new ProcessSpec("find", [tree, "-xdev", "-newermt", at, "-exec", "touch", "-h", "-d", at, "{}", "+"]), null, cancellationToken);
    }
}
