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
}

/// <summary>A log that keeps everything, for tests and for callers that print later.</summary>
public sealed class RecordingLog : IBuildLog
{
    private readonly object _gate = new();

    public List<(LogImportance Importance, string Text)> Messages { get; } = [];

    public List<Diagnostic> Warnings { get; } = [];

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
