using System.Diagnostics;

namespace DiskImageBuilder.Host;

/// <summary>
/// The one way the engine runs a program: output streamed line by line, the last lines kept
/// for error messages, and the whole process tree killed on cancellation.
/// </summary>
public static class ProcessRunner
{
    /// <summary>How long a cancelled process tree gets before we stop waiting for its pipes.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);

    public static ProcessResult Run(ProcessSpec spec, Action<string>? onLine, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (fileName, arguments) = Tethered(spec, newSession: !spec.Interactive, dieWithUs: true);
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = !spec.Interactive,
            RedirectStandardError = !spec.Interactive,
            RedirectStandardInput = !spec.Interactive,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? "/",
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        if (spec.ClearEnvironment)
        {
            psi.Environment.Clear();
        }

        if (spec.Environment is not null)
        {
            foreach (var (k, v) in spec.Environment)
            {
                psi.Environment[k] = v;
            }
        }

        var tail = new Queue<string>();
        var gate = new object();
        void Line(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                tail.Enqueue(line);
                while (tail.Count > spec.TailLines)
                {
                    tail.Dequeue();
                }

                onLine?.Invoke(line);
            }
        }

        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new DibException(DibCodes.ToolFailed, $"Could not start '{spec.FileName}': {ex.Message}");
        }

        if (!spec.Interactive)
        {
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        using (cancellationToken.Register(() => Kill(process)))
        {
            process.WaitForExit();
        }

        // WaitForExit() without a timeout also drains the redirected streams; after a kill a
        // grandchild may still hold a pipe open, so the drain is bounded.
        if (cancellationToken.IsCancellationRequested)
        {
            process.WaitForExit(KillGrace);
            cancellationToken.ThrowIfCancellationRequested();
        }

        lock (gate)
        {
            return new ProcessResult(process.ExitCode, [.. tail]);
        }
    }

    /// <summary>Runs a program and throws a DIB0100 error naming it and its last output when it fails.</summary>
    public static ProcessResult RunChecked(ProcessSpec spec, Action<string>? onLine, CancellationToken cancellationToken)
    {
        var result = Run(spec, onLine, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new DibException(
                DibCodes.ToolFailed,
                $"'{spec.FileName} {string.Join(' ', spec.Arguments)}' failed with exit code {result.ExitCode}.{FormatTail(result.Tail)}");
        }

        return result;
    }

    /// <summary>
    /// Starts a program that runs until disposed, tethered to us: its stdin is a pipe only this
    /// process holds, so it reads end-of-file (and should exit) when we end, however we end.
    /// </summary>
    public static TetheredProcess StartTethered(ProcessSpec spec)
    {
        // No death signal: the pipe is its tether, and the thread starting it may end before it does.
        var (fileName, arguments) = Tethered(spec, newSession: true, dieWithUs: false);
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? "/",
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            return new TetheredProcess(Process.Start(psi)!);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new DibException(DibCodes.ToolFailed, $"Could not start '{spec.FileName}': {ex.Message}");
        }
    }

    /// <summary>
    /// The command line that runs <paramref name="spec"/> tied to this build:
    /// <list type="bullet">
    /// <item>in a session of its own (setsid), so a signal to our process group (Ctrl+C in a
    /// terminal, a CI runner's kill of the group) reaches only us, and the build decides how its
    /// processes end (killed, then cleaned up) instead of a tool dying under it and reporting a
    /// failure; not for programs that drive the user's terminal.</item>
    /// <item>with SIGKILL as its parent-death signal (setpriv --pdeathsig): when the thread that
    /// started it ends (ours wait for their process) or this whole process dies, even by SIGKILL, it
    /// dies too. The kernel, not our code, does that, so nothing outlives a killed build; a hook's
    /// unshare takes its namespace down with it (--kill-child), also a PID 1 that ignores SIGTERM.</item>
    /// <item>in a rootless build, as root in the build's user namespace (nsenter).</item>
    /// </list>
    /// The program is looked up here (PATH, then the sbin folders) as the pre-flight check looks it up.
    /// </summary>
    internal static (string FileName, IReadOnlyList<string> Arguments) Tethered(ProcessSpec spec, bool newSession, bool dieWithUs)
    {
        var program = FindOnPath(spec.FileName)
            ?? throw new DibException(DibCodes.ToolFailed, $"Could not start '{spec.FileName}': no such program on PATH ({Environment.GetEnvironmentVariable("PATH")}) or in /usr/sbin, /sbin.");
        List<string> prefix = [];
        if (dieWithUs && Setpriv.Value is { } setpriv)
        {
            prefix.AddRange([setpriv, "--pdeathsig", "KILL", "--"]);
        }

        if (newSession && Setsid.Value is { } setsid)
        {
            prefix.AddRange([setsid, "--"]);
        }

        // A rootless build runs every program as root in its user namespace (see UserNamespace).
        if (UserNamespace.Current is { } ns)
        {
            prefix.AddRange([FindOnPath(ns.Enter[0]) ?? ns.Enter[0], .. ns.Enter.Skip(1)]);
        }

        return prefix.Count == 0 ? (program, spec.Arguments) : (prefix[0], [.. prefix.Skip(1), program, .. spec.Arguments]);
    }

    private static readonly Lazy<string?> Setpriv = new(() => FindOnPath("setpriv"));
    private static readonly Lazy<string?> Setsid = new(() => FindOnPath("setsid"));

    public static string FormatTail(IReadOnlyList<string> tail) =>
        tail.Count == 0 ? string.Empty : $" Last {tail.Count} lines of output:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";

    /// <summary>Finds a program on PATH (or the given directories), like `command -v`.</summary>
    public static string? FindOnPath(string program, string? path = null)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        path ??= Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    internal static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Raced with exit.
        }
    }
}
