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

/// <summary>Runs `dotnet build` out of process, as a user would, and reads its binlog.</summary>
public static class Dotnet
{
    public static BuildRun Build(string project, string binlog, IReadOnlyDictionary<string, string>? environment, Action<Process>? whileRunning, params string[] args) =>
        Verb("build", project, binlog, environment, whileRunning, args);

    /// <summary>`dotnet VERB project` (build, publish, pack: the verbs that take MSBuild's switches).</summary>
    public static BuildRun Verb(string verb, string project, string binlog, IReadOnlyDictionary<string, string>? environment, Action<Process>? whileRunning, params string[] args)
    {
        var psi = StartInfo(project, environment, ["-nr:false", "-tl:off", $"-bl:{binlog}", .. args], verb: verb);
        var output = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            whileRunning?.Invoke(p);
        }
        catch
        {
            // A failed check must not leave the build running behind the test.
            p.Kill(entireProcessTree: true);
            throw;
        }

        if (!p.WaitForExit(TimeSpan.FromMinutes(20)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet build did not finish in 20 minutes:\n" + output);
        }

        p.WaitForExit();
        return new BuildRun(p.ExitCode, output.ToString(), BinaryLog.ReadBuild(binlog));
    }

    /// <summary>`dotnet VERB PROJECT ARGS` (build by default) with <paramref name="environment"/> added, output redirected; <paramref name="ownSession"/>: in a session (and process group) of its own, as a terminal or CI runner starts it.</summary>
    public static ProcessStartInfo StartInfo(string project, IReadOnlyDictionary<string, string>? environment, string[] args, bool ownSession = false, string verb = "build")
    {
        var psi = new ProcessStartInfo(ownSession ? "setsid" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var a in (string[])[.. ownSession ? ["dotnet"] : Array.Empty<string>(), verb, project, .. args])
        {
            psi.ArgumentList.Add(a);
        }

        // The Locator points these at the SDK for our process; a child `dotnet build` must pick its own.
        foreach (var v in (string[])["MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath"])
        {
            psi.Environment.Remove(v);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return psi;
    }
}

/// <summary>
/// A throwaway .dibproj that imports the SDK files from this repository by path, with the tasks
/// assembly next to the tests: what `dotnet build` does for a user, minus packing.
/// </summary>
public sealed class ImageProject : IDisposable
{
    private readonly TempDir _dir = new();

    public ImageProject(string body, string name = "image")
    {
        Name = name;
        ProjectFile = _dir.Combine(name + ".dibproj");
        WriteProject(body);
    }

    public string Name { get; }

    public string ProjectFile { get; }

    public string Dir => _dir.Path;

    public string Combine(params string[] parts) => _dir.Combine(parts);

    public string OutputFile(string extension = "tar") => _dir.Combine("bin", "Debug", $"{Name}.{extension}");

    /// <summary>Extracts a tar (owners, modes, xattrs, devices kept) into a new folder and returns it.</summary>
    public static string ExtractTar(string tar, string into)
    {
        Directory.CreateDirectory(into);
        Sh($"tar --extract --file '{tar}' --directory '{into}' --same-owner --same-permissions --numeric-owner --xattrs --xattrs-include='*'");
        return into;
    }

    /// <summary>
    /// The usual test image: the offline busybox tree, no base element, plus the given body. It has
    /// an image cache of its own, so phase snapshots of other tests never stand in for its phases.
    /// </summary>
    public static ImageProject Busybox(string extraBody = "", string elements = "")
    {
        var p = BusyboxSharingCache(extraBody, elements);
        p.Environment["DIB_IMAGE_CACHE"] = p.Combine("cache");
        return p;
    }

    /// <summary>A busybox image using the user's image cache, or the ImageCacheDirectory of <paramref name="extraBody"/>.</summary>
    public static ImageProject BusyboxSharingCache(string extraBody = "", string elements = "") => new($"""
          <PropertyGroup>
            <ElementsPath>{Repo.TestElements}</ElementsPath>
            <SkipBaseElement>true</SkipBaseElement>
            <ImageFormat>tar</ImageFormat>
          </PropertyGroup>
          <ItemGroup>
            <Element Include="busybox-tree" />
            {elements}
          </ItemGroup>
          {extraBody}
        """);

    public void WriteProject(string body) => File.WriteAllText(ProjectFile, $"""
        <Project>
          <PropertyGroup>
            <DiskImageBuilderTasksAssembly>{Repo.TasksAssembly}</DiskImageBuilderTasksAssembly>
            <DiskImageBuilderElementsDirectory>{Repo.Elements}/</DiskImageBuilderElementsDirectory>
          </PropertyGroup>
          <Import Project="{Repo.Sdk}/Sdk.props" />
        {body}
          <Import Project="{Repo.Sdk}/Sdk.targets" />
        </Project>
        """);

    /// <summary>Variables added to the build's environment (DIB_* pass-through, ELEMENTS_PATH).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    public string Write(string relative, string content, bool? executable = null) => _dir.Write(relative, content, executable);

    public BuildRun Build(params string[] args) => Run(null, args);

    /// <summary>`dotnet publish`, `dotnet pack`, … of the project.</summary>
    public BuildRun Verb(string verb, params string[] args) =>
        Dotnet.Verb(verb, ProjectFile, _dir.Combine($"{verb}-{Guid.NewGuid():N}.binlog"), Environment, null, args);

    /// <summary>Starts the build and lets the caller act on the running process (for cancellation).</summary>
    public BuildRun Run(Action<Process>? whileRunning, params string[] args) =>
        Dotnet.Build(ProjectFile, _dir.Combine($"build-{Guid.NewGuid():N}.binlog"), Environment, whileRunning, args);

    /// <summary>Extracts an output tar (owners, modes, xattrs, devices kept) and returns the folder.</summary>
    public string Extract(string extension = "tar")
    {
        return ExtractTar(OutputFile(extension), _dir.Combine("extracted-" + Guid.NewGuid().ToString("N")));
    }

    /// <summary>Runs a shell command and returns its standard output; throws when it fails.</summary>
    public static string Sh(string command)
    {
        var r = ProcessRunner.Run(new ProcessSpec("sh", ["-c", command]) { TailLines = 10000 }, null, CancellationToken.None);
        return r.ExitCode == 0 ? r.TailText : throw new InvalidOperationException($"'{command}' failed ({r.ExitCode}): {r.TailText}");
    }

    public IReadOnlyList<string> MountsUnderProject() => HostFiles.MountsUnder(_dir.Path);

    public void Dispose() => _dir.Dispose();
}
