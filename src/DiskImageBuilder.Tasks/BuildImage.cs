using DiskImageBuilder.Output;
using DiskImageBuilder.Request;
using Microsoft.Build.Framework;

namespace DiskImageBuilder.Tasks;

/// <summary>Builds the image described by the request file that <see cref="PrepareImage"/> wrote. Ctrl+C cancels it.</summary>
public sealed class BuildImage : CancelableEngineTask
{
    [Required]
    public string RequestFile { get; set; } = string.Empty;

    /// <summary>
    /// Seconds to wait for another build of the same image (ImageLockTimeout); 0 fails at once; empty
    /// waits as long as it takes. A task parameter, not part of the request file: it shapes no image.
    /// </summary>
    public string? LockTimeout { get; set; }

    /// <summary>
    /// The &lt;ImageEnvironment&gt; items, as PrepareImage got them: the values of secret-looking
    /// variables are not in the request file and are collected again here, with the environment.
    /// </summary>
    public ITaskItem[] ImageEnvironment { get; set; } = [];

    /// <summary>Where to list the files hooks wrote beside the image (IMAGE_NAME.d/…), one a line, for FileWrites.</summary>
    public string? BesideImageList { get; set; }

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
        var request = BuildRequest.FromJson(File.ReadAllText(RequestFile)).WithSecrets(PrepareImage.CallerEnvironment(ImageEnvironment));
        if (!string.IsNullOrWhiteSpace(LockTimeout))
        {
            request = request with { LockTimeoutSeconds = RequestValues.ParseLockTimeout(LockTimeout, "ImageLockTimeout", request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile)) };
        }

        try
        {
            var outputs = ImageBuilder.Build(request, log, cancellationToken);
            Outputs = [.. outputs.Select(o => (ITaskItem)new Microsoft.Build.Utilities.TaskItem(o))];
        }
        catch
        {
            // MSBuild's up-to-date check compares times: after a failed or cancelled build some outputs
            // (one format of several, a checksum) may be newer than the inputs. A newer input makes
            // the next build run again, whatever this one left.
            File.SetLastWriteTimeUtc(RequestFile, DateTime.UtcNow);
            throw;
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

            // Also after a failure: what hooks wrote so far is removed by the next clean.
            if (!string.IsNullOrEmpty(BesideImageList))
            {
                File.WriteAllLines(BesideImageList, DiskImageBuilder.Output.Outputs.BesideImage(request));
            }
        }
    }
}
