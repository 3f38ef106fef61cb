namespace DiskImageBuilder.Tests;

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
