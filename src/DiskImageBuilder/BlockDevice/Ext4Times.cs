using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Reproducible ext4 (SOURCE_DATE_EPOCH): mke2fs runs with libext2fs's clock faked to the epoch
/// (E2FSPROGS_FAKE_TIME: superblocks, their backups, the inodes it makes itself), but -d copies each
/// file's ctime and atime from the host tree (when the build ran). Afterwards debugfs, with the same
/// clock, sets every used inode's atime, ctime and crtime to the epoch; mtimes are the tree's,
/// clamped to the epoch before the outputs are written.
/// </summary>
internal static partial class Ext4Times
{
    public static void Pin(string disk, long offset, long epoch, IBuildLog log, CancellationToken cancellationToken)
    {
        var device = offset == 0 ? disk : $"{disk}?offset={offset.ToString(CultureInfo.InvariantCulture)}";
        var env = FakeTime(epoch);
        var dump = ProcessRunner.RunChecked(new ProcessSpec("dumpe2fs", [device]) { Environment = env, TailLines = int.MaxValue }, null, cancellationToken);
        var stamp = "@" + epoch.ToString(CultureInfo.InvariantCulture);
        var script = new StringBuilder();
        foreach (var inode in UsedInodes(dump.Tail))
        {
            foreach (var field in (string[])["atime", "ctime", "crtime"])
            {
                script.Append(CultureInfo.InvariantCulture, $"sif <{inode}> {field} {stamp}\n");
            }
        }

        script.Append(CultureInfo.InvariantCulture, $"ssv mkfs_time {stamp}\nssv lastcheck {stamp}\n");
        var file = Path.GetTempFileName();
        ProcessResult result;
        try
        {
            File.WriteAllText(file, script.ToString());
            result = ProcessRunner.Run(new ProcessSpec("debugfs", ["-w", "-f", file, device]) { Environment = env }, line => log.Message(LogImportance.Low, "[debugfs] " + line), cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }

        if (result.ExitCode != 0)
        {
            throw new DibException(DibCodes.FileSystemFailed, $"debugfs could not set the root filesystem's times (exit code {result.ExitCode}).{ProcessRunner.FormatTail(result.Tail)}");
        }
    }

    /// <summary>libext2fs's clock, for mke2fs and debugfs.</summary>
    public static Dictionary<string, string> FakeTime(long epoch) => new() { ["E2FSPROGS_FAKE_TIME"] = epoch.ToString(CultureInfo.InvariantCulture) };

    /// <summary>The inodes in use, from dumpe2fs's per-group "Free inodes:" ranges.</summary>
    public static IEnumerable<long> UsedInodes(IReadOnlyList<string> dumpe2fs)
    {
        var perGroup = long.Parse(Field(dumpe2fs, "Inodes per group"), CultureInfo.InvariantCulture);
        var group = 0L;
        foreach (var line in dumpe2fs)
        {
            var m = GroupFree().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var first = (group * perGroup) + 1;
            var free = new List<(long From, long To)>();
            foreach (var range in m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var ends = range.Split('-');
                free.Add((long.Parse(ends[0], CultureInfo.InvariantCulture), long.Parse(ends[^1], CultureInfo.InvariantCulture)));
            }

            for (var inode = first; inode < first + perGroup; inode++)
            {
                if (!free.Any(r => inode >= r.From && inode <= r.To))
                {
                    yield return inode;
                }
            }

            group++;
        }
    }

    private static string Field(IReadOnlyList<string> lines, string name) =>
        lines.First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    [GeneratedRegex(@"^\s+Free inodes: ?(.*)$")]
    private static partial Regex GroupFree();
}
