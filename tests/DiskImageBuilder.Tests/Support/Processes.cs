using System.Diagnostics;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

internal static class Processes
{
    /// <summary>Command lines of running processes that contain the text.</summary>
    public static IReadOnlyList<string> Matching(string text)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (cmd.Contains(text, StringComparison.Ordinal))
                {
                    found.Add(cmd);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
