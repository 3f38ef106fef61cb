using System.Text;
using DiskImageBuilder.Elements;

namespace DiskImageBuilder.Hooks;

/// <summary>
/// Hook files that cannot run, found before any work and named for what they are, instead of a
/// copy failing with a .NET stack trace or a shell saying "not found" halfway through the build:
/// a symbolic link to nothing, a script with Windows line endings (its interpreter becomes
/// "/bin/bash\r"), and, for scripts that run on the host, an interpreter the host does not have
/// (inside the image, <see cref="Explain"/> says so when the script fails).
/// </summary>
public static class HookChecks
{
    public static void Check(IEnumerable<Element> elements)
    {
        var problems = new List<Diagnostic>();
        foreach (var element in elements)
        {
            foreach (var folder in Phase.All.Select(p => (p.Name, p.InChroot)).Append((Name: HooksTree.BinDir, InChroot: true)).Append((Name: HooksTree.EnvironmentDir, InChroot: false)))
            {
                var dir = Path.Combine(element.Directory, folder.Name);
                if (!Directory.Exists(dir))
                {
                    continue;
                }

                foreach (var file in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
                {
                    // bin/ runs on both sides: its interpreters are only checked when they run.
                    if (Problem(file, runsOnHost: !folder.InChroot && folder.Name != HooksTree.EnvironmentDir) is { } problem)
                    {
                        problems.Add(new Diagnostic(DibCodes.BadHookFile, $"Element '{element.Name}': {folder.Name}/{Path.GetFileName(file)} {problem}", new SourceLocation(file, 1)));
                    }
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new DibException(problems);
        }
    }

    /// <summary>Why a script that failed with 126 or 127 could not start, if its first line tells; null otherwise.</summary>
    /// <param name="root">Where the script's interpreter is looked up: the image tree, or "/" for the host.</param>
    public static string? Explain(string script, string root)
    {
        var (shebang, interpreter) = Shebang(script);
        if (shebang is null || interpreter is null)
        {
            return null;
        }

        if (shebang.EndsWith('\r'))
        {
            return CrLf;
        }

        var inRoot = Path.Combine(root, interpreter.TrimStart('/'));
        return File.Exists(inRoot) || Directory.Exists(inRoot)
            ? null
            : $"its interpreter {interpreter} (from its first line, '{shebang}') does not exist {(root == "/" ? "on the host" : "in the image")}.";
    }

    private const string CrLf = "has Windows line endings (CRLF): its first line names an interpreter ending in a carriage return, which cannot exist. Convert it (sed -i 's/\\r$//' FILE, or dos2unix).";

    private static string? Problem(string file, bool runsOnHost)
    {
        // File.Exists is true for a dangling link (.NET falls back to lstat): follow it by hand.
        var info = new FileInfo(file);
        if (info.LinkTarget is { } target && (File.ResolveLinkTarget(file, returnFinalTarget: true)?.FullName ?? file) is var final
            && !File.Exists(final) && !Directory.Exists(final))
        {
            return $"is a symbolic link to {target}, which does not exist.";
        }

        if (!File.Exists(file) || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            // Not a script that runs (environment.d files are sourced: CRLF breaks those too).
            return File.Exists(file) && Path.GetFileName(Path.GetDirectoryName(file)) == HooksTree.EnvironmentDir && HasCrLf(file)
                ? CrLf
                : null;
        }

        var (shebang, _) = Shebang(file);
        if (shebang?.EndsWith('\r') == true)
        {
            return CrLf;
        }

        return runsOnHost ? Explain(file, "/") : null;
    }

    /// <summary>The first line when it starts with #!, and the interpreter it names.</summary>
    private static (string? Line, string? Interpreter) Shebang(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var buffer = new byte[256];
            var n = stream.Read(buffer);
            if (n < 2 || buffer[0] != '#' || buffer[1] != '!')
            {
                return (null, null);
            }

            var end = Array.IndexOf(buffer, (byte)'\n', 0, n);
            var line = Encoding.UTF8.GetString(buffer, 0, end < 0 ? n : end);
            var interpreter = line[2..].TrimStart(' ', '\t').Split([' ', '\t'], 2)[0];
            return (line, interpreter.Length == 0 ? null : interpreter.TrimEnd('\r'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, null);
        }
    }

    private static bool HasCrLf(string file)
    {
        try
        {
            return File.ReadAllText(file).Contains("\r\n", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
