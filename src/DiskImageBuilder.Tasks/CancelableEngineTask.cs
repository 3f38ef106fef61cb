using DiskImageBuilder.Host;
using MSBuildTask = Microsoft.Build.Utilities.Task;
using Microsoft.Build.Framework;

namespace DiskImageBuilder.Tasks;

/// <summary>
/// A task that runs long engine work: Ctrl+C (MSBuild's Cancel, on any thread) cancels the token
/// the work gets, and every failure becomes a coded MSBuild error.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "MSBuild never disposes tasks; the source lives as long as the task object.")]
public abstract class CancelableEngineTask : MSBuildTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        var log = new MSBuildLog(Log);

        // MSBuild turns Ctrl+C into Cancel(); SIGTERM and SIGHUP (a CI runner stopping the job, a
        // closed terminal) it does not handle at all, and .NET would end the process with exit code 0.
        using var signals = BuildSignals.Enroll(_cancel.Token);
        return log.Run(() => Run(log, signals.Token), signals);
    }

    private protected abstract void Run(MSBuildLog log, CancellationToken cancellationToken);
}

/// <summary>Runs when MSBuild first loads this assembly (the first of our tasks in a build process).</summary>
internal static class SignalSetup
{
    /// <summary>
    /// From then on SIGTERM or SIGHUP ends this build process with 128 + signal, never 0 (what the
    /// dotnet CLI says on SIGTERM), also between our tasks, e.g. while apps are published.
    /// </summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Signal handling must be in place before any of our tasks runs, and no task of ours is first for sure.")]
    internal static void Init() => BuildSignals.Install();
}
