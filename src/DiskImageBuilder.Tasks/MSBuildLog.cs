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
        _log.LogWarning(null, d.Code, null, d.Location?.File, d.Location?.Line ?? 0, 0, 0, 0, "{0}", d.Message);

    public void Error(Diagnostic d) =>
        _log.LogError(null, d.Code, null, d.Location?.File, d.Location?.Line ?? 0, 0, 0, 0, "{0}", d.Message);

    /// <summary>Runs engine work, turning every way it can fail into coded errors.</summary>
    public bool Run(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (DibException.DiagnosticsFor(ex) is { } diagnostics)
        {
            foreach (var d in diagnostics)
            {
                Error(d);
            }
        }

        return !_log.HasLoggedErrors;
    }
}
