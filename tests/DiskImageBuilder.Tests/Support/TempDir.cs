using System.Runtime.CompilerServices;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using Microsoft.Build.Locator;

namespace DiskImageBuilder.Tests;

/// <summary>A temporary directory, deleted with everything in it.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Named by the test process (dib-test-PID-…), so a later run can tell a dead run's folder from a live one's.</summary>
    private static readonly string Prefix = $"dib-test-{Environment.ProcessId}-";

    public TempDir() => Path = Directory.CreateTempSubdirectory(Prefix).FullName;

    /// <summary>
    /// Removes the folders of test runs whose process is gone (killed, so Dispose never ran); a
    /// folder with something still mounted in it stays, and says why on the console.
    /// </summary>
    internal static void RemoveLeftovers()
    {
        foreach (var dir in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), "dib-test-*-*"))
        {
            var pid = System.IO.Path.GetFileName(dir).Split('-')[2];
            if (int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && !Directory.Exists($"/proc/{id}"))
            {
                try
                {
                    HostFiles.RemoveTree(dir);
                }
                catch (DibException e)
                {
                    Console.Error.WriteLine($"Left {dir}: {e.Message}");
                }
            }
        }
    }

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
