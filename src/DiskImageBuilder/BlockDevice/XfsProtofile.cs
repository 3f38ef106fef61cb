using System.Globalization;
using System.Text;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A prototype file for `mkfs.xfs -p`, which fills a new xfs from it without mounting. Debian 12's
/// xfsprogs (6.1) reads only: regular files (content from a host path), directories, symlinks,
/// block and character devices and FIFOs, each with owner, group, setuid/setgid and 9 permission
/// bits, names and paths as space-separated tokens. It cannot express hard links (each name would
/// be a copy), xattrs (capabilities, ACLs, SELinux labels), sockets, or names and link targets
/// with white space or ':' (a comment): <see cref="Write"/> says which of these a tree has, so the
/// caller takes the mount path. The sticky bit (/tmp, /var/tmp) it cannot express either, but
/// xfs_db can set it afterwards (<see cref="StickyFixups"/>). Every file gets the time of the mkfs,
/// not the tree's (xfs_db cannot write bigtime timestamps in 6.1).
/// </summary>
internal static class XfsProtofile
{
    /// <summary>
    /// Writes the protofile for <paramref name="tree"/> to <paramref name="protofile"/> and returns
    /// null, or returns why the tree cannot be one (the first thing found) and writes nothing.
    /// </summary>
    /// <param name="sticky">Receives the paths ("/tmp") whose sticky bit <see cref="StickyFixups"/> must set after the mkfs, with their whole mode.</param>
    public static string? Write(string tree, string protofile, List<(string Path, int Mode)> sticky, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(tree).TrimEnd('/');
        if (!Representable(root))
        {
            return $"the tree's path {root} has white space or ':'";
        }

        var entries = new List<Entry>();
        string? problem = null;

        // One walk: type, mode with the special bits, owner, link count, link target; NUL-separated
        // into a file, so any name survives.
        var listing = protofile + ".list";
        ProcessRunner.RunChecked(new ProcessSpec("find", [root, "-fprintf", listing, "%y %m %U %G %n %P\\0%l\\0"]), null, cancellationToken);
        var output = File.ReadAllText(listing);
        File.Delete(listing);
        var fields = output.Split('\0');
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            var head = fields[i].Split(' ', 6);
            entries.Add(new Entry(head[0][0], Convert.ToInt32(head[1], 8), head[2], head[3], long.Parse(head[4], CultureInfo.InvariantCulture), head[5], fields[i + 1]));
        }

        foreach (var e in entries)
        {
            problem ??= e switch
            {
                { Type: 's' } => $"/{e.Path} is a socket",
                { Type: not ('d' or 'f' or 'l' or 'b' or 'c' or 'p') } => $"/{e.Path} has file type '{e.Type}'",
                { Type: not 'd', Links: > 1 } => $"/{e.Path} is a hard link ({e.Links} names)",
                _ when !Representable(Path.GetFileName(e.Path)) => $"/{e.Path} has white space or ':' in its name",
                { Type: 'l' } when !Representable(e.Target) || e.Target.Length == 0 => $"/{e.Path} links to a target with white space or ':'",
                _ => null,
            };
        }

        problem ??= FirstWithXattrs(root, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        sticky.AddRange(entries.Where(e => (e.Mode & 0x200) != 0).Select(e => ("/" + e.Path, TypeBits(e.Type) | (e.Mode & 0xfff))));
        var devices = DeviceNumbers(root, entries.Where(e => e.Type is 'b' or 'c').Select(e => e.Path).ToList(), cancellationToken);
        var children = entries.Where(e => e.Path.Length > 0).ToLookup(e => Path.GetDirectoryName(e.Path) ?? string.Empty);
        var text = new StringBuilder("dib\n0 0\n");
        var top = entries.Single(e => e.Path.Length == 0);
        text.Append(Spec(top, root, devices)).Append('\n');
        WriteDirectory(text, string.Empty, children, root, devices, 1);
        text.Append("$\n");
        File.WriteAllText(protofile, text.ToString());
        return null;
    }

    /// <summary>xfs_db -x commands that give each path its whole mode (type and special bits), for what the protofile could not say.</summary>
    public static IReadOnlyList<string> StickyFixups(IEnumerable<(string Path, int Mode)> sticky) =>
        [.. sticky.SelectMany(s => new[] { "-c", $"path {s.Path}", "-c", $"write core.mode 0{Convert.ToString(s.Mode, 8)}" })];

    private static int TypeBits(char type) => type switch
    {
        'd' => 0x4000, // S_IFDIR
        'l' => 0xa000,
        'b' => 0x6000,
        'c' => 0x2000,
        'p' => 0x1000,
        _ => 0x8000,
    };

    private static void WriteDirectory(StringBuilder text, string directory, ILookup<string, Entry> children, string root, IReadOnlyDictionary<string, string> devices, int depth)
    {
        foreach (var child in children[directory].OrderBy(c => c.Path, StringComparer.Ordinal))
        {
            text.Append(' ', depth).Append(Path.GetFileName(child.Path)).Append(' ').Append(Spec(child, root, devices)).Append('\n');
            if (child.Type == 'd')
            {
                WriteDirectory(text, child.Path, children, root, devices, depth + 1);
                text.Append(' ', depth).Append("$\n");
            }
        }
    }

    private static string Spec(Entry e, string root, IReadOnlyDictionary<string, string> devices)
    {
        var type = e.Type switch { 'f' => '-', var t => t };
        var mode = $"{type}{((e.Mode & 0x800) != 0 ? 'u' : '-')}{((e.Mode & 0x400) != 0 ? 'g' : '-')}{Convert.ToString(e.Mode & 0x1ff, 8).PadLeft(3, '0')} {e.Uid} {e.Gid}";
        return e.Type switch
        {
            'f' => $"{mode} {root}/{e.Path}",
            'l' => $"{mode} {e.Target}",
            'b' or 'c' => $"{mode} {devices[e.Path]}",
            _ => mode,
        };
    }

    /// <summary>Names and paths are tokens; ':' starts a comment, '$' alone ends a directory.</summary>
    private static bool Representable(string token) =>
        token != "$" && !token.Any(c => char.IsWhiteSpace(c) || c == ':');

    private static string? FirstWithXattrs(string root, CancellationToken cancellationToken)
    {
        string? first = null;
        ProcessRunner.RunChecked(
            new ProcessSpec("getfattr", ["--absolute-names", "-R", "-h", "-m", "-", root]),
            line => first ??= line.StartsWith("# file: ", StringComparison.Ordinal) ? line["# file: ".Length..] : null,
            cancellationToken);
        return first is null ? null : $"{first} has extended attributes";
    }

    /// <summary>"major minor" of each device node, from one stat.</summary>
    private static Dictionary<string, string> DeviceNumbers(string root, List<string> paths, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (paths.Count == 0)
        {
            return result;
        }

        var lines = RunCapture("stat", ["-c", "%t %T", "--", .. paths.Select(p => $"{root}/{p}")], cancellationToken).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < paths.Count; i++)
        {
            var parts = lines[i].Split(' ');
            result[paths[i]] = $"{Convert.ToInt64(parts[0], 16)} {Convert.ToInt64(parts[1], 16)}";
        }

        return result;
    }

    private static string RunCapture(string program, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var output = new StringBuilder();
        ProcessRunner.RunChecked(new ProcessSpec(program, args), line => output.Append(line).Append('\n'), cancellationToken);
        return output.ToString();
    }

    private sealed record Entry(char Type, int Mode, string Uid, string Gid, long Links, string Path, string Target);
}
