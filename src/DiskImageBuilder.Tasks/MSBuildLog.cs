using DiskImageBuilder.Host;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace DiskImageBuilder.Tasks;

/// <summary>Maps engine log events and diagnostics to MSBuild messages, warnings and coded errors.</summary>
internal sealed class MSBuildLog : IBuildLog
{
    private readonly TaskLoggingHelper _log;

    public MSBuildLog(TaskLoggingHelper log) => _log = log;

    /// <summary>The steps timed so far, in order.</summary>
    public List<StepTiming> Timings { get; } = [];

    public void StepTimed(StepTiming timing)
    {
        lock (Timings)
        {
            Timings.Add(timing);
        }
    }

    public void Message(LogImportance importance, string message) =>
        _log.LogMessage(
            importance switch
            {
                LogImportance.High => MessageImportance.High,
                LogImportance.Normal => MessageImportance.Normal,
                _ => MessageImportance.Low,
            },
            "{0}",
            message);

    public void Warning(Diagnostic d) =>
        _log.LogWarning(null, d.Code, null, HelpLink(d.Code), d.Location?.File, d.Location?.Line ?? 0, 0, 0, 0, "{0}", d.Message);

    public void Error(Diagnostic d) =>
        _log.LogError(null, d.Code, null, HelpLink(d.Code), d.Location?.File, d.Location?.Line ?? 0, 0, 0, 0, "{0}", d.Message);

    /// <summary>
    /// The code's entry in docs/errors.md, shipped in the SDK package two folders above the tasks
    /// (tools/net10.0/): IDEs and the binlog viewer offer it beside the error. In a repository
    /// checkout the tasks sit deeper, so the folders above are searched.
    /// </summary>
    internal static string? HelpLink(string code) =>
        ErrorsPage.Value is { } page ? $"{new Uri(page).AbsoluteUri}#{code.ToLowerInvariant()}" : null;

    private static readonly Lazy<string?> ErrorsPage = new(() =>
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(typeof(MSBuildLog).Assembly.Location)!); dir is not null; dir = dir.Parent)
        {
            var page = Path.Combine(dir.FullName, "docs", "errors.md");
            if (File.Exists(page))
            {
                return page;
            }
        }

        return null;
    });

    /// <summary>Runs engine work, turning every way it can fail into coded errors.</summary>
    public bool Run(Action action) => Run(action, null);

    /// <summary>Runs engine work that <paramref name="signals"/> can cancel: then the one error is DIB0041 naming the signal.</summary>
    public bool Run(Action action, BuildSignals.Scope? signals)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (DibException.DiagnosticsFor(ex, signals?.Token.IsCancellationRequested == true, signals?.CancelledBy) is { } diagnostics)
        {
            if (signals?.Token.IsCancellationRequested == true && ex is not OperationCanceledException)
            {
                Message(LogImportance.Low, $"DiskImageBuilder: while cancelling: {ex.Message}");
            }

            foreach (var d in diagnostics)
            {
                Error(d);
            }
        }

        return !_log.HasLoggedErrors;
    }
}
