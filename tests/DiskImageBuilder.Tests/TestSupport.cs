using System.Runtime.CompilerServices;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using Microsoft.Build.Locator;

namespace DiskImageBuilder.Tests;

internal static class ModuleSetup
{
    [ModuleInitializer]
    internal static void Init()
    {
        if (!MSBuildLocator.IsRegistered)
        {
            MSBuildLocator.RegisterDefaults();
        }
    }
}

/// <summary>A temporary directory, deleted with everything in it.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("dib-test-").FullName;

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes a file (creating folders); executable when the name is under a phase folder or bin/.</summary>
    public string Write(string relative, string content, bool? executable = null)
    {
        var full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        var exec = executable ?? (relative.Contains(".d/", StringComparison.Ordinal) && !relative.Contains("environment.d/", StringComparison.Ordinal))
            || relative.Contains("/bin/", StringComparison.Ordinal);
        if (exec)
        {
            File.SetUnixFileMode(full, File.GetUnixFileMode(full) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        return full;
    }

    public void Dispose()
    {
        try
        {
            HostFiles.RemoveTree(Path);
        }
        catch (DibException)
        {
            // A test that left a mount fails on its own assertion; never delete through a mount.
        }
    }
}

internal static class Repo
{
    public static readonly string Root = Find();

    public static string TestElements => Path.Combine(Root, "tests", "elements");

    public static string Elements => Path.Combine(Root, "elements");

    public static string Sdk => Path.Combine(Root, "sdk", "Sdk");

    public static string TasksAssembly => typeof(Tasks.PrepareImage).Assembly.Location;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "sdk", "Sdk", "Sdk.props")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}

internal static class Resolve
{
    public static ResolvedElements Elements(string elementsDir, params string[] names) =>
        ElementResolver.Resolve(new ElementRepository([elementsDir]), [.. names.Select(n => new ElementRequest(n))], skipBase: true);
}
