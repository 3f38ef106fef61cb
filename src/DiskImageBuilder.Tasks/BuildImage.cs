using Microsoft.Build.Framework;

namespace DiskImageBuilder.Tasks;

/// <summary>Builds the image described by the request file that <see cref="PrepareImage"/> wrote. Ctrl+C cancels it.</summary>
public sealed class BuildImage : CancelableEngineTask
{
    [Required]
    public string RequestFile { get; set; } = string.Empty;

    /// <summary>The files written.</summary>
    [Output]
    public ITaskItem[] Outputs { get; private set; } = [];

    /// <summary>
    /// One item per step (phase), in order, with metadata Seconds and Restored: data a binlog viewer
    /// can sort, also for a build that failed part way.
    /// </summary>
    [Output]
    public ITaskItem[] StepTimings { get; private set; } = [];

    private protected override void Run(MSBuildLog log, CancellationToken cancellationToken)
    {
        var request = BuildRequest.FromJson(File.ReadAllText(RequestFile));
        try
        {
            var outputs = ImageBuilder.Build(request, log, cancellationToken);
            Outputs = [.. outputs.Select(o => (ITaskItem)new Microsoft.Build.Utilities.TaskItem(o))];
        }
        finally
        {
            StepTimings = [.. log.Timings.Select(t =>
            {
                var item = new Microsoft.Build.Utilities.TaskItem(t.Step);
                item.SetMetadata("Seconds", t.Elapsed.TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture));
                item.SetMetadata("Restored", t.Restored ? "true" : "false");
                return (ITaskItem)item;
            })];
        }
    }
}
