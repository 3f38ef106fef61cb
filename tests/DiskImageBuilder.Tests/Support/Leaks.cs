using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>What a build left behind that it should not have.</summary>
internal static class Leaks
{
    public static IReadOnlyList<string> Of(ImageProject p, SignalledRun run) =>
        [.. Processes(run), .. Mounts(p), .. LoopDevices(p), .. WorkDirectory(p), .. PartialOutputs(p)];

    /// <summary>Descendants noted while the build ran that still run; they get a few seconds to die.</summary>
    public static IReadOnlyList<string> Processes(SignalledRun run)
    {
        SpinWait.SpinUntil(() => !run.Descendants.Any(Tree.Alive), TimeSpan.FromSeconds(5));
        var alive = run.Descendants.Where(Tree.Alive).ToList();
        foreach (var id in alive)
        {
            // Never leave them behind the test.
            try
            {
                Process.GetProcessById(id.Pid).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }

        return [.. alive.Select(a => $"process {a.Pid}: {a.Command}")];
    }

    /// <summary>Mounts at or below the project in any process's mount namespace.</summary>
    public static IReadOnlyList<string> Mounts(ImageProject p)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                foreach (var point in File.ReadLines(Path.Combine(dir, "mountinfo")).Select(l => l.Split(' ')[4]))
                {
                    if (point.StartsWith(p.Dir, StringComparison.Ordinal))
                    {
                        found.Add("mount " + point);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return [.. found];
    }

    public static IReadOnlyList<string> LoopDevices(ImageProject p) =>
        [.. ImageProject.Sh("losetup -a").Split('\n').Where(l => l.Contains(p.Dir, StringComparison.Ordinal)).Select(l => "loop " + l)];

    public static IReadOnlyList<string> WorkDirectory(ImageProject p) =>
        Directory.Exists(p.Combine("obj/Debug/dib/work")) ? ["work directory obj/Debug/dib/work"] : [];

    public static IReadOnlyList<string> PartialOutputs(ImageProject p) =>
        Directory.Exists(p.Combine("bin")) ? [.. Directory.EnumerateFiles(p.Combine("bin"), "*partial*", SearchOption.AllDirectories).Select(f => "partial " + f)] : [];
}
