using System.Diagnostics;
using System.Text;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Microsoft.Build.Logging.StructuredLogger;

namespace DiskImageBuilder.Tests;

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

    /// <summary>
    /// `dotnet build` as an ordinary user, who is given the project's folder at the first build (only
    /// then: later, its image cache holds files of the user's subordinate IDs, which must keep them).
    /// </summary>
    public BuildRun BuildAs(TestUser user, params string[] args)
    {
        if (Sh($"stat -c %U '{Dir}'").Trim() != user.Name)
        {
            Sh($"chown -R '{user.Name}:' '{Dir}'");
        }

        return Dotnet.Verb("build", ProjectFile, _dir.Combine($"build-{Guid.NewGuid():N}.binlog"), Environment, null, user, args);
    }

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
