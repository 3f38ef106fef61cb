using System.Runtime.InteropServices;

namespace DiskImageBuilder.Host;

/// <summary>
/// Turns SIGTERM, SIGINT and SIGHUP into cancellation of the builds running in this process (the
/// CLI, or the MSBuild process or node running the task). While a build runs, the signal's default
/// action (ending the process at once; `dotnet build` even exits 0 on SIGTERM) is suppressed, so
/// the build unwinds: processes killed, partial outputs and the work directory removed, a DIB0041
/// error naming the signal, a non-zero exit. With no build running, SIGTERM and SIGHUP still end the
/// process, but with exit code 128 + signal (as a shell reports it), never 0, so a CI job
/// stopped between two tasks never reads as a success. SIGINT is then left to its owner (MSBuild's
/// Ctrl+C handling, which cancels the build through ICancelableTask).
/// The dotnet CLI (since .NET 10) answers SIGTERM itself with Environment.Exit(0), whatever other
/// handlers decide; Environment.Exit raises ProcessExit first, so that handler here holds the exit
/// until the running builds have unwound, and turns the exit code into 128 + signal.
/// </summary>
public static class BuildSignals
{
    /// <summary>How long an exit forced by someone else waits for the builds to unwind.</summary>
    private static readonly TimeSpan UnwindLimit = TimeSpan.FromMinutes(2);

    /// <summary>How long an exit forced by someone else leaves the loggers to write the build's last messages.</summary>
    private static readonly TimeSpan LoggerGrace = TimeSpan.FromSeconds(1.5);

    private static readonly object Gate = new();
    private static readonly List<Scope> Running = [];
    private static PosixSignalRegistration[]? _registrations;
    private static PosixSignal? _lastSignal;

    /// <summary>Installs the handlers (once per process) without enrolling a build.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_registrations is not null)
            {
                return;
            }

            _registrations = [.. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP }.Select(s => PosixSignalRegistration.Create(s, OnSignal))];
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }
    }

    /// <summary>
    /// Enrols one build until the scope is disposed: its <see cref="Scope.Token"/> is cancelled by the
    /// first of the signals, or by <paramref name="cancellationToken"/>.
    /// </summary>
    public static Scope Enroll(CancellationToken cancellationToken)
    {
        // Installed once per process and kept: the idle behaviour (a non-zero exit on SIGTERM) is
        // wanted for the rest of the process too.
        Install();
        lock (Gate)
        {
            var scope = new Scope(cancellationToken);
            Running.Add(scope);
            return scope;
        }
    }

    /// <summary>The conventional name of a signal (SIGTERM), also for raw numbers.</summary>
    public static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGTERM or PosixSignal.SIGINT or PosixSignal.SIGHUP or PosixSignal.SIGQUIT => signal.ToString(),
        _ => $"signal {(int)signal}",
    };

    private static int ExitCodeFor(PosixSignal signal) => 128 + signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGTERM => 15,
        _ => 0,
    };

    private static void OnSignal(PosixSignalContext context)
    {
        lock (Gate)
        {
            if (context.Signal is PosixSignal.SIGTERM or PosixSignal.SIGHUP)
            {
                _lastSignal = context.Signal;
            }

            if (Running.Count == 0)
            {
                if (_lastSignal is { } s)
                {
                    Environment.ExitCode = ExitCodeFor(s);
                }

                return;
            }

            // Keep the process alive until the builds have cleaned up; a build that cannot unwind is
            // still ended by SIGKILL, and its processes with it (they are tethered, see ProcessRunner).
            context.Cancel = true;
            foreach (var scope in Running)
            {
                scope.Signalled(context.Signal);
            }
        }
    }

    /// <summary>
    /// The process is ending (Environment.Exit, from the dotnet CLI's SIGTERM handler or anyone
    /// else) while builds run: cancel them, wait until they have unwound, and make the exit code say
    /// so, since whoever called Exit may have said 0.
    /// </summary>
    private static void OnProcessExit(object? sender, EventArgs e)
    {
        Scope[] running;
        lock (Gate)
        {
            running = [.. Running];
            if (running.Length == 0)
            {
                if (_lastSignal is { } idle)
                {
                    Environment.ExitCode = ExitCodeFor(idle);
                }

                return;
            }
        }

        foreach (var scope in running)
        {
            scope.Signalled(_lastSignal ?? PosixSignal.SIGTERM);
        }

        var deadline = DateTime.UtcNow + UnwindLimit;
        foreach (var scope in running)
        {
            scope.Ended.Wait(deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        // The build's last error (DIB0041) was handed to MSBuild's loggers as its scope ended; they
        // write on a thread of their own, and the exit must not overtake them (seen: exit 143 with
        // the error never printed).
        Thread.Sleep(LoggerGrace);
        Environment.ExitCode = ExitCodeFor(_lastSignal ?? PosixSignal.SIGTERM);
    }

    /// <summary>One enrolled build.</summary>
    public sealed class Scope : IDisposable
    {
        private readonly CancellationTokenSource _source;
        private PosixSignal? _signal;

        internal Scope(CancellationToken cancellationToken) => _source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        public CancellationToken Token => _source.Token;

        /// <summary>The first signal received while enrolled, if any.</summary>
        public PosixSignal? Signal => _signal;

        /// <summary>What cancelled the build, for DIB0041: the signal, or null (the caller's token).</summary>
        public string? CancelledBy => _signal is { } s ? Name(s) : null;

        /// <summary>Set when the build has ended (the scope is disposed).</summary>
        internal ManualResetEventSlim Ended { get; } = new();

        public void Dispose()
        {
            lock (Gate)
            {
                Running.Remove(this);
            }

            // Not disposed: a forced exit may still be waiting on it, and a late signal may still cancel the source (a no-op).
            Ended.Set();
        }

        internal void Signalled(PosixSignal signal)
        {
            _signal ??= signal;

            // Cancellation callbacks kill processes and may block: not on the signal thread, which the
            // runtime needs for the next signal, nor on the pool, which MSBuild may keep busy.
            new Thread(() =>
            {
                _source.Cancel();
            })
            { IsBackground = true, Name = "DiskImageBuilder signal" }.Start();
        }
    }
}
