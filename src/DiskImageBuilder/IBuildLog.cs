namespace DiskImageBuilder;

public enum LogImportance
{
    High,
    Normal,
    Low,
}

/// <summary>
/// The engine's only way to talk to the user. MSBuild tasks map it to TaskLoggingHelper,
/// the CLI to the console. Errors are not logged here: they are thrown as <see cref="DibException"/>.
/// </summary>
public interface IBuildLog
{
    void Message(LogImportance importance, string message);

    void Warning(Diagnostic diagnostic);

    /// <summary>A build step (phase) ended: for logs that keep timings as data (MSBuild task outputs). The text is logged too.</summary>
    void StepTimed(StepTiming timing)
    {
    }
}

/// <summary>How long one step of the build took, and whether it was restored from a phase snapshot instead of run.</summary>
public sealed record StepTiming(string Step, TimeSpan Elapsed, bool Restored);

/// <summary>A log that keeps everything, for tests and for callers that print later.</summary>
public sealed class RecordingLog : IBuildLog
{
    private readonly object _gate = new();

    public List<(LogImportance Importance, string Text)> Messages { get; } = [];

    public List<Diagnostic> Warnings { get; } = [];

    public List<StepTiming> Timings { get; } = [];

    public void StepTimed(StepTiming timing)
    {
        lock (_gate)
        {
            Timings.Add(timing);
        }
    }

    public void Message(LogImportance importance, string message)
    {
        lock (_gate)
        {
            Messages.Add((importance, message));
        }
    }

    public void Warning(Diagnostic diagnostic)
    {
        lock (_gate)
        {
            Warnings.Add(diagnostic);
        }
    }
}
