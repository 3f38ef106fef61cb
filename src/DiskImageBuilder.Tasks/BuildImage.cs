using Microsoft.Build.Framework;

namespace DiskImageBuilder.Tasks;

/// <summary>Builds the image described by the request file that <see cref="PrepareImage"/> wrote. Ctrl+C cancels it.</summary>
public sealed class BuildImage : CancelableEngineTask
{
    [Required]
    public string RequestFile { get; set; } = string.Empty;

    /// <summary>Where to list the files hooks wrote beside the image (IMAGE_NAME.d/…), one a line, for FileWrites.</summary>
    public string? BesideImageList { get; set; }

    /// <summary>The files written.</summary>
    [Output]
    public ITaskItem[] Outputs { get; private set; } = [];

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
            // Also after a failure: what hooks wrote so far is removed by the next clean.
            if (!string.IsNullOrEmpty(BesideImageList))
            {
                File.WriteAllLines(BesideImageList, DiskImageBuilder.Outputs.BesideImage(request));
            }
        }
    }
}
