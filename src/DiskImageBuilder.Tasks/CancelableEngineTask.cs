using Microsoft.Build.Framework;
using MSBuildTask = Microsoft.Build.Utilities.Task;

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
        return log.Run(() => Run(log, _cancel.Token));
    }

    private protected abstract void Run(MSBuildLog log, CancellationToken cancellationToken);
}
