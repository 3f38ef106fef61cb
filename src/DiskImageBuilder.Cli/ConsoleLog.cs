namespace DiskImageBuilder.Cli;

/// <summary>Engine messages as plain lines on stdout (and the --logfile, which also gets the detailed ones).</summary>
internal sealed class ConsoleLog : IBuildLog, IDisposable
{
    private readonly object _gate = new();
    private readonly string _program;
    private readonly CliContext _context;
    private readonly StreamWriter? _file;

    public ConsoleLog(string program, CliContext context, string? logFile)
    {
        _program = program;
        _context = context;
        if (logFile is not null)
        {
            _file = new StreamWriter(logFile, append: false) { AutoFlush = true };
        }
    }

    /// <summary>Detailed (low importance) messages on stdout too (disk-image-get-kernel -x).</summary>
    public bool ShowDetail { get; init; }

    public void Message(LogImportance importance, string message)
    {
        lock (_gate)
        {
            if (importance != LogImportance.Low || ShowDetail)
            {
                _context.Out.WriteLine(message);
            }

            _file?.WriteLine(message);
        }
    }

    public void Warning(Diagnostic diagnostic)
    {
        lock (_gate)
        {
            _context.Report(_program, diagnostic, "warning");
            _file?.WriteLine($"warning {diagnostic.Code}: {diagnostic.Message}");
        }
    }

    /// <summary>Errors end up in the log file as well as on stderr.</summary>
    public void Errors(IEnumerable<Diagnostic> diagnostics)
    {
        lock (_gate)
        {
            foreach (var d in diagnostics)
            {
                _file?.WriteLine($"error {d.Code}: {d.Message}");
            }
        }
    }

    public void Dispose() => _file?.Dispose();
}
