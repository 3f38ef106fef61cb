using Microsoft.Build.Framework;
using MSBuildTask = Microsoft.Build.Utilities.Task;

namespace DiskImageBuilder.Tasks;

/// <summary>Builds the image described by the request file that <see cref="PrepareImage"/> wrote. Ctrl+C cancels it.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "MSBuild never disposes tasks; the source lives as long as the task object.")]
public sealed class BuildImage : MSBuildTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    [Required]
    public string RequestFile { get; set; } = string.Empty;

    /// <summary>The files written.</summary>
    [Output]
    public ITaskItem[] Outputs { get; private set; } = [];

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        var log = new MSBuildLog(Log);
        return log.Run(() =>
        {
            var request = BuildRequest.FromJson(File.ReadAllText(RequestFile));
            var outputs = ImageBuilder.Build(request, log, _cancel.Token);
            Outputs = [.. outputs.Select(o => (ITaskItem)new Microsoft.Build.Utilities.TaskItem(o))];
        });
    }
}
