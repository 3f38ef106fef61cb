using System.Runtime.CompilerServices;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using Microsoft.Build.Locator;

namespace DiskImageBuilder.Tests;

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
