using System.Diagnostics;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Hooks;

/// <summary>
/// Runs the scripts of a phase, one process each, every one inside its own mount and PID
/// namespace (unshare): whatever a script mounts or leaves running is gone when it ends, also
/// after a failure or a cancellation. Output is streamed to the log prefixed by phase/script.
/// </summary>
internal sealed class PhaseRunner
{
    /// <summary>Where the hooks tree appears inside the image (DIB's path).</summary>
    public const string InTargetHooks = "/tmp/in_target.d";

    /// <summary>The wrappers' last line when sourcing an environment.d file ended the shell.</summary>
    private const string EnvironmentFailed = "dib-environment-failed:";

    private static readonly Lazy<string> HostWrapper = new(() => Resources.Get("run-hook.sh"));
    private static readonly Lazy<string> ChrootWrapper = new(() => Resources.Get("run-in-chroot.sh"));

    /// <summary>The wrappers every script runs through: part of every phase snapshot's key.</summary>
    public static IEnumerable<string> EngineScripts => [HostWrapper.Value, ChrootWrapper.Value, .. HookLibrary.Scripts];

    private readonly HooksTree _hooks;
    private readonly string _rootTree;
    private readonly Dictionary<string, string> _environment;
    private readonly IBuildLog _log;
    private readonly string _workingDirectory;

    /// <param name="workingDirectory">Where host hooks run: the caller's directory, as in DIB (files they write beside $IMAGE_NAME land beside the image).</param>
    public PhaseRunner(HooksTree hooks, string rootTree, IReadOnlyDictionary<string, string> environment, string workingDirectory, IBuildLog log)
    {
        _workingDirectory = workingDirectory;
        _hooks = hooks;
        _rootTree = rootTree;
        _environment = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        _log = log;
    }

    /// <summary>Sets a variable for the scripts that run from now on (DIB exports some only from a phase on).</summary>
    public void SetVariable(string name, string value) => _environment[name] = value;

    /// <summary>Where the engine reads the tree when it is not a plain folder (an overlay in its own namespace).</summary>
    public string? TreeView { get; init; }

    /// <summary>The image's /dev entries, made once per build beside the hooks tree (in the work directory, outside the tree).</summary>
    private string DevNodes => Path.Combine(Path.GetDirectoryName(_hooks.Root)!, "dev-nodes");

    /// <summary>
    /// The build's view of apt's package cache (archives/, lists/), mounted at /var/cache/apt/archives
    /// and /var/lib/apt/lists for every script inside the image whose tree has those folders; null: none.
    /// </summary>
    public string? PackageCacheView { get; init; }

    /// <summary>A command prefix that puts scripts where the tree is mounted (nsenter), if it is.</summary>
    public IReadOnlyList<string> Enter { get; init; } = [];

    public void Run(Phase phase, CancellationToken cancellationToken)
    {
        var scripts = _hooks.Scripts(phase);
        _log.Message(LogImportance.High, $"DiskImageBuilder: {phase.Name}: {scripts.Count} script(s)");
        var phaseClock = Stopwatch.StartNew();
        string? shell = null;
        // Only a phase with hooks inside the image needs a shell there (DIB's fake-os tree has none).
        if (phase.InChroot && scripts.Count > 0)
        {
            shell = ShellInImage(TreeView ?? _rootTree, scripts[0]);
        }

        foreach (var script in scripts)
        {
            RunScript(script, shell, cancellationToken);
        }

        // At the default verbosity each phase that runs scripts shows where it starts and ends.
        _log.Message(scripts.Count > 0 ? LogImportance.High : LogImportance.Normal, $"DiskImageBuilder: {phase.Name} took {phaseClock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>
    /// Runs one script the engine generated into a reserved folder of the hooks tree inside the
    /// image, exactly as a hook script runs (namespaces, environment, log prefix, DIB0040).
    /// </summary>
    public void RunGenerated(string hooksFolder, string scriptPath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var script = new HookScript(new Phase(hooksFolder, InChroot: true), Path.GetFileName(scriptPath), scriptPath, scriptPath, "DiskImageBuilder");
        RunScript(script, ShellInImage(TreeView ?? _rootTree, script), cancellationToken);
        _log.Message(LogImportance.Normal, $"DiskImageBuilder: {script.DisplayName} took {clock.Elapsed.TotalSeconds:0.00} s");
    }

    private void RunScript(HookScript script, string? shell, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        var prefix = $"[{script.DisplayName}] ";
        ProcessResult result;
        using (new Heartbeat(script.DisplayName, clock, _log))
        {
            result = ProcessRunner.Run(Spec(script, shell), line => _log.Message(LogImportance.Normal, prefix + line), cancellationToken);
        }

        _log.Message(LogImportance.Low, $"{script.DisplayName} ({script.ElementName}) exited {result.ExitCode} after {clock.Elapsed.TotalSeconds:0.00} s");
        // 126/127: the shell could not run it at all; say why when its first line tells.
        if (result.ExitCode is 126 or 127 && HookChecks.Explain(script.Path, script.Phase.InChroot ? TreeView ?? _rootTree : "/") is { } why)
        {
            throw new DibException(DibCodes.BadHookFile, $"Element '{script.ElementName}': {script.DisplayName} could not run: {why}", new SourceLocation(script.SourcePath, 1));
        }

        if (result.ExitCode != 0)
        {
            // The wrappers name an environment.d file that failed (or exited) while it was sourced.
            if (result.Tail.Count > 0 && result.Tail[^1].StartsWith(EnvironmentFailed, StringComparison.Ordinal))
            {
                var file = result.Tail[^1][EnvironmentFailed.Length..].Trim();
                var (source, element) = _hooks.Origin(file);
                throw new DibException(
                    DibCodes.EnvironmentFileFailed,
                    $"Element '{element}': {file} failed with exit code {result.ExitCode} while it was sourced for {script.DisplayName} (element '{script.ElementName}'); "
                    + $"environment.d files only set variables.{ProcessRunner.FormatTail([.. result.Tail.SkipLast(1)])}",
                    new SourceLocation(source));
            }

            throw new DibException(
                DibCodes.ScriptFailed,
                $"Element '{script.ElementName}': {script.DisplayName} failed with exit code {result.ExitCode} ({script.SourcePath}).{ProcessRunner.FormatTail(result.Tail)}",
                new SourceLocation(script.SourcePath));
        }
    }

    /// <summary>The shell that sources environment.d inside the image: bash where the image has it (DIB's elements assume bash).</summary>
    /// <param name="first">The first script that needs it, named in the error.</param>
    public static string ShellInImage(string rootTree, HookScript first)
    {
        if (File.Exists(Path.Combine(rootTree, "bin/bash")) || File.Exists(Path.Combine(rootTree, "usr/bin/bash")))
        {
            return "/bin/bash";
        }

        if (File.Exists(Path.Combine(rootTree, "bin/sh")) || File.Exists(Path.Combine(rootTree, "usr/bin/sh")))
        {
            return "/bin/sh";
        }

        throw new DibException(
            DibCodes.NoRootTree,
            $"Element '{first.ElementName}': {first.DisplayName} runs inside the image, but the image tree has no /bin/sh ({rootTree}). "
            + "An operating-system element must create the tree in root.d; a tree without a shell can only have hooks that run on the host.",
            new SourceLocation(first.SourcePath));
    }

    /// <summary>The environment host-side scripts get: what a break-point shell gets too. Elements' bin/ first, then dib-run-parts and sudo.</summary>
    public IReadOnlyDictionary<string, string> HostEnvironment() =>
        new Dictionary<string, string>(_environment, StringComparer.Ordinal)
        {
            ["PATH"] = $"{_hooks.Root}/bin:{_environment["_LIB"]}/bin:{_environment["PATH"]}",
        };

    private ProcessSpec Spec(HookScript script, string? shell)
    {
        var env = new Dictionary<string, string>(_environment, StringComparer.Ordinal);
        string[] args;
        if (script.Phase.InChroot)
        {
            env["TMP_HOOKS_PATH"] = InTargetHooks;
            env.Remove("TARGET_ROOT");
            env["PATH"] = $"{InTargetHooks}/bin:{env["PATH"]}";
            var inImage = $"{InTargetHooks}/{script.Phase.Name}/{script.Name}";
            // bash, not sh: dash drops the exported functions (die, get_image_element_array) from the environment.
            args = [.. InImage, .. Unshare, "bash", "-c", ChrootWrapper.Value, "dib-chroot", _rootTree, _hooks.Root, shell!, inImage, DevNodes, PackageCacheView ?? string.Empty,
                .. _hooks.EnvironmentFiles().Select(f => $"{InTargetHooks}/{f}")];
        }
        else
        {
            env = new Dictionary<string, string>(HostEnvironment(), StringComparer.Ordinal);
            args = [.. Unshare, "bash", "-c", HostWrapper.Value, "dib-hook", _workingDirectory, script.Path, .. _hooks.EnvironmentFiles().Select(f => Path.Combine(_hooks.Root, f))];
        }

        string[] command = [.. Enter, "unshare", .. args];
        return new ProcessSpec(command[0], command[1..]) { Environment = env, ClearEnvironment = true, WorkingDirectory = _hooks.Root };
    }

    /// <summary>
    /// At the default verbosity a script's output is hidden: a line every
    /// <see cref="HeartbeatInterval"/> says a long script is still at work, and one says when it ends.
    /// </summary>
    private sealed class Heartbeat : IDisposable
    {
        private readonly string _name;
        private readonly Stopwatch _clock;
        private readonly IBuildLog _log;
        private readonly Timer _timer;
        private readonly object _gate = new();
        private bool _beat;
        private bool _done;

        public Heartbeat(string name, Stopwatch clock, IBuildLog log)
        {
            (_name, _clock, _log) = (name, clock, log);
            _timer = new Timer(_ => Beat(), null, HeartbeatInterval, HeartbeatInterval);
        }

        private void Beat()
        {
            lock (_gate)
            {
                if (!_done)
                {
                    _beat = true;
                    _log.Message(LogImportance.High, $"DiskImageBuilder: {_name} still running, {_clock.Elapsed.TotalSeconds:0} s");
                }
            }
        }

        public void Dispose()
        {
            _timer.Dispose();
            lock (_gate)
            {
                _done = true;
                if (_beat)
                {
                    _log.Message(LogImportance.High, $"DiskImageBuilder: {_name} finished after {_clock.Elapsed.TotalSeconds:0} s");
                }
            }
        }
    }

    /// <summary>How often a running script is reported at the default verbosity.</summary>
    internal static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    // --kill-child: if we die or kill unshare, its child (PID 1 of the new namespace) dies, and
    // with it every process of the namespace; the mount namespace goes with the last of them.
    private static readonly string[] Unshare = ["--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "--"];

    // Scripts inside the image also get their own host name and System V IPC: a hostname or a
    // shared-memory segment set by a package's maintainer script stays in the image's script.
    private static readonly string[] InImage = ["--uts", "--ipc"];
}
