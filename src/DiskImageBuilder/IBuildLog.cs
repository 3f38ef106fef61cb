namespace DiskImageBuilder;

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
