using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace DiskImageBuilder.Tasks;

/// <summary>Maps engine log events and diagnostics to MSBuild messages, warnings and coded errors.</summary>
internal sealed class MSBuildLog : IBuildLog
{
    private readonly TaskLoggingHelper _log;

    public MSBuildLog(TaskLoggingHelper log) => _log = log;

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
        catch (DibException ex)
        {
            foreach (var d in ex.Diagnostics)
            {
                Error(d);
            }
        }
        catch (OperationCanceledException)
        {
            Error(new Diagnostic(DibCodes.Cancelled, "The image build was cancelled; its mounts, processes and work directory were removed."));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            Error(new Diagnostic(DibCodes.Internal, $"Unexpected error: {ex}"));
        }

        return !_log.HasLoggedErrors;
    }
}
