using DiskImageBuilder.Host;

namespace DiskImageBuilder.Hooks;

/// <summary>
/// DIB's break=…: stop before or after a phase, or after a failing script, and hand the build tree
/// to the user. With a terminal a shell opens in the tree and the build continues when it exits;
/// without one the build stops there and keeps its work directory for inspection.
/// </summary>
public sealed class BreakPoints
{
    public const string AfterError = "after-error";

    private readonly HashSet<string> _points;
    private readonly bool _interactive;
    private readonly string _workDirectory;
    private readonly string _rootTree;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly IBuildLog _log;

    public BreakPoints(IReadOnlyList<string> points, bool interactive, string workDirectory, string rootTree, IReadOnlyDictionary<string, string> environment, IBuildLog log)
    {
        _points = Parse(points, null).ToHashSet(StringComparer.Ordinal);
        _interactive = interactive;
        _workDirectory = workDirectory;
        _rootTree = rootTree;
        _environment = environment;
        _log = log;
    }

    /// <summary>True once the build stopped at a break point without a terminal: the work directory must stay.</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// Normalises names (',' or space separated) to before-&lt;phase&gt;.d, after-&lt;phase&gt;.d or after-error.
    /// DIB writes phases without ".d" (break=before-install); both spellings are accepted.
    /// </summary>
    public static IReadOnlyList<string> Parse(IEnumerable<string> values, SourceLocation? location)
    {
        var result = new List<string>();
        foreach (var value in values.SelectMany(v => v.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var normal = value == AfterError ? value : Normalise(value)
                ?? throw new DibException(
                    DibCodes.InvalidBreakPoint,
                    $"Unknown break point '{value}'. Valid: after-error, before-<phase> or after-<phase> with a phase of {string.Join(", ", Phase.All.Select(p => p.Name))}.",
                    location);
            if (!result.Contains(normal))
            {
                result.Add(normal);
            }
        }

        return result;
    }

    public void Before(Phase phase, CancellationToken cancellationToken) => At($"before-{phase.Name}", null, cancellationToken);

    public void After(Phase phase, CancellationToken cancellationToken) => At($"after-{phase.Name}", null, cancellationToken);

    /// <summary>Called with a phase failure; returns normally only when a shell ran and the caller should rethrow.</summary>
    public void AfterFailure(DibException failure, CancellationToken cancellationToken) => At(AfterError, failure, cancellationToken);

    private void At(string point, DibException? failure, CancellationToken cancellationToken)
    {
        if (!_points.Contains(point))
        {
            return;
        }

        if (_interactive)
        {
            _log.Message(LogImportance.High, $"DiskImageBuilder: break={point}: starting a shell in {_rootTree} with the scripts' environment; exit it to continue.");
            ProcessRunner.Run(
                new ProcessSpec("bash", ["-i"]) { Environment = _environment, ClearEnvironment = true, WorkingDirectory = _rootTree, Interactive = true },
                null,
                cancellationToken);
            return;
        }

        Stopped = true;

        // Chroot mounts only exist inside each script's own namespace; check rather than assume.
        var mounts = HostFiles.MountsUnder(_workDirectory);
        var mountText = mounts.Count == 0 ? "Nothing is mounted in it" : $"Still mounted: {string.Join(", ", mounts)}";
        var stop = new Diagnostic(
            DibCodes.StoppedAtBreakPoint,
            $"Stopped at break={point} (no terminal for a shell). The image tree is {_rootTree}; the work directory {_workDirectory} is kept. {mountText}; delete it when done.");
        throw new DibException([.. failure?.Diagnostics ?? [], stop]);
    }

    private static string? Normalise(string value)
    {
        foreach (var prefix in (string[])["before-", "after-"])
        {
            if (value.StartsWith(prefix, StringComparison.Ordinal))
            {
                var name = value[prefix.Length..];
                var phase = Phase.Find(name) ?? Phase.Find(name + ".d");
                return phase is null ? null : prefix + phase.Name;
            }
        }

        return null;
    }
}
