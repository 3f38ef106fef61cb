using System.Globalization;

namespace DiskImageBuilder.Host;

/// <summary>
/// A rootless build's user namespace: the build's user is root in it, and the user's subordinate IDs
/// (/etc/subuid, /etc/subgid) are the image's other users and groups, so every file keeps its real
/// owner in the image. A small process tethered to the build holds the namespace (unshare maps the IDs
/// with newuidmap/newgidmap); while <see cref="Current"/> is set, <see cref="ProcessRunner"/> starts
/// every program inside it (nsenter), so hooks, mmdebstrap, mounts and mkfs run as root there, each
/// in the same mount and PID namespaces as in a root build. Files the engine itself writes belong to
/// the user, which is root inside: the tree looks the same from both sides.
/// </summary>
public sealed class UserNamespace : IDisposable
{
    /// <summary>The IDs mapped above root: enough for every ID Debian gives out (nobody is 65534).</summary>
    public const int MappedIds = 65536;

    private static readonly Lock Gate = new();
    private static UserNamespace? _shared;
    private readonly TetheredProcess _holder;
    private int _users;

    private UserNamespace(TetheredProcess holder) => _holder = holder;

    /// <summary>
    /// The namespace this process's programs run in while a rootless build is under way. One per
    /// process, shared by builds that overlap (all of one user, so all with the same map), and ended
    /// with the last of them: a process-wide value, as the engine's worker threads (and MSBuild's)
    /// do not all carry the starting thread's context.
    /// </summary>
    public static UserNamespace? Current
    {
        get
        {
            lock (Gate)
            {
                return _shared;
            }
        }
    }

    /// <summary>The command prefix that runs a program as root inside the namespace.</summary>
    public IReadOnlyList<string> Enter => ["nsenter", $"--target={_holder.Id}", "--user", "--"];

    /// <summary>What a rootless build needs on the host besides the engine's tools.</summary>
    public static readonly IReadOnlyList<HostTool> HostTools = [new("newuidmap", "uidmap"), new("newgidmap", "uidmap")];

    /// <summary>
    /// The namespace for a build by <paramref name="user"/> (name and ID), <see cref="Current"/> until
    /// the build disposes it.
    /// </summary>
    public static UserNamespace Create(string user, int uid)
    {
        var uids = SubordinateRange(File.Exists(SubUid) ? File.ReadLines(SubUid) : [], user, uid)
            ?? throw NoRange(user, SubUid);
        var gids = SubordinateRange(File.Exists(SubGid) ? File.ReadLines(SubGid) : [], user, uid)
            ?? throw NoRange(user, SubGid);
        string[] map = ["--user", "--map-root-user", $"--map-users={uids},1,{MappedIds}", $"--map-groups={gids},1,{MappedIds}", "--"];

        // A trial first, with its output kept: the kernel's, newuidmap's or a policy's refusal is
        // then named in the error (the holder's own error output is not ours to read).
        var trial = ProcessRunner.Run(new ProcessSpec("unshare", [.. map, "true"]), null, CancellationToken.None);
        if (trial.ExitCode != 0)
        {
            throw new DibException(
                DibCodes.UserNamespaceRefused,
                $"Building as '{user}' (not root) needs a user namespace, and the host refused one (unshare {string.Join(' ', map[..^1])}). "
                + "Check that newuidmap and newgidmap are installed setuid root (apt-get install uidmap), that /proc/sys/user/max_user_namespaces is not 0, "
                + "and that no security policy (AppArmor's kernel.apparmor_restrict_unprivileged_userns, a container's seccomp profile) forbids unprivileged user namespaces; or build as root."
                + ProcessRunner.FormatTail(trial.Tail));
        }

        lock (Gate)
        {
            if (_shared is null || _shared._holder.HasExited)
            {
                _shared = null;
                var holder = ProcessRunner.StartTethered(new ProcessSpec("unshare", [.. map, "cat"]));
                // unshare makes the namespace, then a helper process maps the IDs: wait for both maps.
                if (!SpinWait.SpinUntil(() => holder.HasExited || (Mapped($"/proc/{holder.Id}/uid_map") && Mapped($"/proc/{holder.Id}/gid_map")), TimeSpan.FromSeconds(10))
                    || holder.HasExited)
                {
                    holder.Dispose();
                    throw new DibException(DibCodes.UserNamespaceRefused, $"The user namespace for building as '{user}' did not get its ID maps from newuidmap/newgidmap within 10 s.");
                }

                _shared = new UserNamespace(holder);
            }

            _shared._users++;
            return _shared;
        }
    }

    /// <summary>Both lines written: root, then the subordinate range.</summary>
    private static bool Mapped(string map)
    {
        try
        {
            return File.ReadAllLines(map).Count(l => l.Trim().Length > 0) == 2;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// The first ID of the first range of at least <see cref="MappedIds"/> IDs that an /etc/subuid
    /// or /etc/subgid file gives the user (by name or by number, as newuidmap reads it).
    /// </summary>
    public static long? SubordinateRange(IEnumerable<string> lines, string user, int uid)
    {
        foreach (var line in lines)
        {
            var fields = line.Split(':');
            if (fields.Length == 3 && (fields[0] == user || fields[0] == uid.ToString(CultureInfo.InvariantCulture))
                && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= MappedIds)
            {
                return start;
            }
        }

        return null;
    }

    private static DibException NoRange(string user, string file) => new(
        DibCodes.NoSubordinateIds,
        $"Building as '{user}' (not root) needs a range of at least {MappedIds} subordinate user and group IDs for '{user}' in /etc/subuid and /etc/subgid, "
        + $"so the image's files keep their owners; {file} has none. As root, add one (any free range): "
        + $"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}   (or build as root).",
        new SourceLocation(file));

    public const string SubUid = "/etc/subuid";

    public const string SubGid = "/etc/subgid";

    /// <summary>The effective user ID of this process (/proc/self/status lists real, effective, saved and filesystem IDs).</summary>
    public static int Uid() => int.Parse(
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2],
        CultureInfo.InvariantCulture);

    /// <summary>Ends this build's use of the namespace; the last build to end takes it down.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (--_users > 0)
            {
                return;
            }

            if (_shared == this)
            {
                _shared = null;
            }
        }

        _holder.Dispose();
    }
}
