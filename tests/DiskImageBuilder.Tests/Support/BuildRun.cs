using System.Diagnostics;
using System.Text;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Microsoft.Build.Logging.StructuredLogger;

namespace DiskImageBuilder.Tests;

/// <summary>The outcome of an out-of-process dotnet build, read back from its binlog.</summary>
public sealed record BuildRun(int ExitCode, string Output, Build Log)
{
    public bool Succeeded => ExitCode == 0 && Log.Succeeded;

    public IReadOnlyList<Error> Errors => [.. Log.FindChildrenRecursive<Error>()];

    public IReadOnlyList<Warning> Warnings => [.. Log.FindChildrenRecursive<Warning>()];

    /// <summary>True when the target ran its tasks (not skipped as up to date, not conditioned out).</summary>
    public bool Ran(string target) =>
        Log.FindChildrenRecursive<Target>(t => t.Name == target).Any(t => t.Children.OfType<Microsoft.Build.Logging.StructuredLogger.Task>().Any());

    /// <summary>True when a task of that name ran anywhere in the build.</summary>
    public bool RanTask(string task) =>
        Log.FindChildrenRecursive<Microsoft.Build.Logging.StructuredLogger.Task>(t => t.Name == task).Any();

    public IEnumerable<string> Messages => Log.FindChildrenRecursive<Message>().Select(m => m.Text);
}
