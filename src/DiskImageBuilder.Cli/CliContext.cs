using DiskImageBuilder.Host;
using DiskImageBuilder.Request;

namespace DiskImageBuilder.Cli;

/// <summary>
/// Everything a command reads from its surroundings, so tests can run commands in-process with
/// their own environment, directory and captured output.
/// </summary>
public sealed record CliContext(
    IReadOnlyDictionary<string, string> Environment,
    TextWriter Out,
    TextWriter Error,
    string CurrentDirectory)
{
    /// <summary>Whether stdin is a terminal: break points open a shell only then.</summary>
    public bool Interactive { get; init; }

    /// <summary>The packaged element library, searched after ELEMENTS_PATH.</summary>
    public string? ElementsLibrary { get; init; } = DefaultElementsLibrary();

    public CancellationToken CancellationToken { get; init; }

    /// <summary>The signals that cancel <see cref="CancellationToken"/>, when it is the real console's.</summary>
    public BuildSignals.Scope? Signals { get; init; }

    public string? Variable(string name) => Environment.GetValueOrDefault(name);

    /// <summary>The elements/ folder shipped beside our dll (bin/ and the tool package).</summary>
    public static string? DefaultElementsLibrary()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "elements");
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>Prints an error in DIB's style, "program: error CODE: message (file:line)".</summary>
    public void Report(string program, Diagnostic d, string kind = "error")
    {
        var where = d.Location is null ? string.Empty : d.Location.Line > 0 ? $" ({d.Location.File}:{d.Location.Line})" : $" ({d.Location.File})";
        Error.WriteLine($"{program}: {kind} {d.Code}: {d.Message}{where}");
    }
}

/// <summary>Runs a command against the real console: Ctrl+C cancels, failures become coded error lines and exit 1.</summary>
public static class ConsoleHost
{
    public static int Run(string program, Func<IReadOnlyList<string>, CliContext, int> command, string[] args)
    {
        ArgumentNullException.ThrowIfNull(command);

        // SIGINT, SIGTERM and SIGHUP let the engine unwind (kill the script's namespace, delete the
        // work directory and partial outputs) instead of ending the process here.
        using var signals = BuildSignals.Enroll(CancellationToken.None);
        var context = new CliContext(RequestValues.ProcessEnvironment(), Console.Out, Console.Error, Directory.GetCurrentDirectory())
        {
            Interactive = !Console.IsInputRedirected,
            CancellationToken = signals.Token,
            Signals = signals,
        };
        return Invoke(program, command, args, context);
    }

    /// <summary>Runs a command, turning engine failures into error lines; the entry point for tests too.</summary>
    public static int Invoke(string program, Func<IReadOnlyList<string>, CliContext, int> command, IReadOnlyList<string> args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return command(args, context);
        }
        catch (UsageException ex)
        {
            context.Report(program, new Diagnostic(DibCodes.InvalidOption, ex.Message));
            context.Error.WriteLine($"Try '{program} --help' for more information.");
        }
        catch (Exception ex) when (DibException.DiagnosticsFor(ex, context.CancellationToken.IsCancellationRequested, context.Signals?.CancelledBy) is { } diagnostics)
        {
            foreach (var d in diagnostics)
            {
                context.Report(program, d);
            }
        }

        return 1;
    }
}
