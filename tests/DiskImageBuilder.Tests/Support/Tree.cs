using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Reads the process tree from /proc.</summary>
internal static class Tree
{
    public static IReadOnlyList<ProcessId> Descendants(int root)
    {
        var all = new List<(ProcessId Id, int Parent)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(pid) is { } info)
            {
                all.Add(info);
            }
        }

        var found = new List<ProcessId>();
        var parents = new HashSet<int> { root };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (id, parent) in all)
            {
                if (parents.Contains(parent) && parents.Add(id.Pid))
                {
                    found.Add(id);
                    grew = true;
                }
            }
        }

        return found;
    }

    /// <summary>Whether that process still runs (a zombie has ended: it only waits to be reaped).</summary>
    public static bool Alive(ProcessId id) => ReadFull(id.Pid) is { } now && now.Id.StartTime == id.StartTime && !now.Zombie;

    private static (ProcessId Id, int Parent, bool Zombie)? ReadFull(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var command = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            return (new ProcessId(pid, long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture), command),
                int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), fields[0] == "Z");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static (ProcessId Id, int Parent)? Read(int pid) => ReadFull(pid) is { } f ? (f.Id, f.Parent) : null;
}
