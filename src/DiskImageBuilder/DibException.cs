namespace DiskImageBuilder;

/// <summary>
/// A failure the user can act on. The engine throws it; the task and the CLI turn each
/// diagnostic into an MSBuild error (or a DIB-style error line) with its code and location.
/// </summary>
public sealed class DibException : Exception
{
    public DibException(string code, string message, SourceLocation? location = null)
        : this([new Diagnostic(code, message, location)])
    {
    }

    public DibException(IReadOnlyList<Diagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics.Select(d => $"{d.Code}: {d.Message}")))
    {
        if (diagnostics.Count == 0)
        {
            throw new ArgumentException("A DibException needs at least one diagnostic.", nameof(diagnostics));
        }

        Diagnostics = diagnostics;
    }

    public DibException()
        : this(DibCodes.Internal, "unknown error")
    {
    }

    public DibException(string message)
        : this(DibCodes.Internal, message)
    {
    }

    public DibException(string message, Exception innerException)
        : base(message, innerException)
    {
        Diagnostics = [new Diagnostic(DibCodes.Internal, message)];
    }

    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    /// <summary>
    /// What the user is told for a failure of engine work, the same from the task and the CLI;
    /// null for exceptions that are bugs and should propagate.
    /// </summary>
    public static IReadOnlyList<Diagnostic>? DiagnosticsFor(Exception exception) => exception switch
    {
        DibException dib => dib.Diagnostics,
        OperationCanceledException => [Cancelled(null)],
        AggregateException { InnerExceptions.Count: 1 } aggregate => DiagnosticsFor(aggregate.InnerExceptions[0]),

        // The host's files (a full disk, a read-only or foreign-owned folder): the user fixes these, a stack trace does not help.
        IOException or UnauthorizedAccessException when HostFileProblem(exception) is { } problem =>
            [new Diagnostic(DibCodes.HostFileError, $"{exception.Message}{problem}")],
        IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException => [new Diagnostic(DibCodes.Internal, $"Unexpected error: {exception}")],
        _ => null,
    };

    /// <summary>
    /// What the user is told when the build was cancelled: DIB0041 alone, whatever the unwinding
    /// threw (a tool killed by the cancellation, a cleanup step), so a cancellation never reads as the
    /// failure of something else; null for exceptions that are bugs.
    /// </summary>
    /// <param name="cancelledBy">The signal that cancelled it (SIGTERM), or null.</param>
    public static IReadOnlyList<Diagnostic>? DiagnosticsFor(Exception exception, bool cancelled, string? cancelledBy) =>
        cancelled && DiagnosticsFor(exception) is not null ? [Cancelled(cancelledBy)] : DiagnosticsFor(exception);

    public static Diagnostic Cancelled(string? cancelledBy) => new(
        DibCodes.Cancelled,
        $"The image build was cancelled{(cancelledBy is null ? string.Empty : " by " + cancelledBy)}; its processes, mounts, partial outputs and work directory were removed, and the previous image (if any) was left as it was. The next build builds it again.");

    /// <summary>A hint for an I/O failure the user's environment caused, or null for one that looks like a bug.</summary>
    private static string? HostFileProblem(Exception exception)
    {
        const int ENOSPC = 28, EDQUOT = 122, EROFS = 30, EACCES = 13, EPERM = 1, ENOTDIR = 20, EISDIR = 21;
        if (exception is UnauthorizedAccessException)
        {
            return " Check the permissions of that path (the build runs as root, so also read-only mounts and immutable files).";
        }

        // .NET puts the errno in the low 16 bits of HResult for Unix I/O errors it has no type for.
        return (exception.HResult & 0xFFFF) switch
        {
            ENOSPC or EDQUOT => " The disk (or quota) is full: free space where the image, its work directory or the image cache is written.",
            EROFS => " That filesystem is read-only.",
            EACCES or EPERM => " Check the permissions of that path.",
            ENOTDIR or EISDIR => " A path the build writes is a file where a folder is needed, or a folder where a file is.",
            _ => exception is DirectoryNotFoundException or FileNotFoundException or PathTooLongException ? string.Empty : null,
        };
    }
}
