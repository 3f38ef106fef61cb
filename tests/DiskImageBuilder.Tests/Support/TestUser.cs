using System.Globalization;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Tests;

/// <summary>
/// An ordinary user made for a test (useradd, a home of its own) and removed with its home and
/// its subordinate ID ranges when disposed, also after a failed test. Builds as this user are
/// rootless builds: it can read the repository and the SDK, nothing of root's.
/// </summary>
public sealed class TestUser : IDisposable
{
    /// <param name="subordinateIds">Whether to give it a range of subordinate IDs (a rootless build needs one); without, any range useradd gave is taken away.</param>
    /// <param name="firstId">Where the range starts; by default above every range given out so far.</param>
    public TestUser(bool subordinateIds, long? firstId = null)
    {
        // Named by the test process, so a run killed before Dispose is told from a live one (RemoveLeftovers).
        Name = $"{Prefix}{Environment.ProcessId}-{Interlocked.Increment(ref _count)}";
        ImageProject.Sh($"useradd --create-home --shell /bin/sh '{Name}'");
        Home = ImageProject.Sh($"getent passwd '{Name}' | cut -d: -f6").Trim();
        foreach (var file in (string[])[UserNamespace.SubUid, UserNamespace.SubGid])
        {
            var option = file == UserNamespace.SubUid ? "subuids" : "subgids";
            foreach (var (start, count) in Ranges(file, Name))
            {
                ImageProject.Sh($"usermod --del-{option} {start}-{start + count - 1} '{Name}'");
            }

            if (subordinateIds)
            {
                // Above every range given out so far (that fits): never one another user holds.
                var free = firstId ?? Math.Max(100000, Ranges(file, null).Where(r => r.Start + r.Count <= uint.MaxValue).Select(r => r.Start + r.Count).DefaultIfEmpty(0).Max());
                ImageProject.Sh($"usermod --add-{option} {free}-{free + UserNamespace.MappedIds - 1} '{Name}'");
            }
        }
    }

    private const string Prefix = "dib-test-";
    private static int _count;

    public string Name { get; }

    public string Home { get; }

    /// <summary>The ranges of <paramref name="user"/> (every user's when null) in /etc/subuid or /etc/subgid.</summary>
    private static List<(long Start, long Count)> Ranges(string file, string? user) =>
        File.Exists(file)
            ? File.ReadLines(file).Select(l => l.Split(':')).Where(f => f.Length == 3 && (user is null || f[0] == user))
                .Select(f => (long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture))).ToList()
            : [];

    /// <summary>Removes the users of test runs whose process is gone (killed before Dispose).</summary>
    internal static void RemoveLeftovers()
    {
        foreach (var name in File.ReadLines("/etc/passwd").Select(l => l.Split(':')[0]).Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToList())
        {
            var pid = name[Prefix.Length..].Split('-')[0];
            if (pid.Length > 0 && pid.All(char.IsAsciiDigit) && !Directory.Exists($"/proc/{pid}"))
            {
                Remove(name);
            }
        }
    }

    private static void Remove(string name)
    {
        foreach (var file in (string[])[UserNamespace.SubUid, UserNamespace.SubGid])
        {
            var option = file == UserNamespace.SubUid ? "subuids" : "subgids";
            foreach (var (start, count) in Ranges(file, name))
            {
                ProcessRunner.Run(new ProcessSpec("usermod", [$"--del-{option}", $"{start}-{start + count - 1}", name]), null, CancellationToken.None);
            }
        }

        // The user's own folder of build locks (Output.ImageLock), named by its ID.
        var uid = ProcessRunner.Run(new ProcessSpec("id", ["-u", name]), null, CancellationToken.None);
        if (uid.ExitCode == 0 && uid.Tail.Count == 1 && uid.Tail[0].All(char.IsAsciiDigit))
        {
            foreach (var locks in (string[])[$"/run/lock/diskimagebuilder-{uid.Tail[0]}", Path.Combine(Path.GetTempPath(), $"diskimagebuilder-locks-{uid.Tail[0]}")])
            {
                if (Directory.Exists(locks))
                {
                    Directory.Delete(locks, recursive: true);
                }
            }
        }

        // -f: also while a process of the user is still ending; -r: its home and mail spool.
        ProcessRunner.Run(new ProcessSpec("userdel", ["-f", "-r", name]), null, CancellationToken.None);
    }

    public void Dispose() => Remove(Name);
}
