namespace DiskImageBuilder;

/// <summary>
/// Every diagnostic code the product emits, in one place. Codes are never reused.
/// 00xx elements and hooks, 002x project input, 003x host, 004x phases, 005x outputs, 006x phase cache, 01xx tools,
/// 02xx disks and partition tables, 03xx files and apps composed into the image, 09xx internal.
/// </summary>
public static class DibCodes
{
    public const string ElementNotFound = "DIB0001";
    public const string DuplicateProvider = "DIB0002";
    public const string NoOperatingSystem = "DIB0003";
    public const string RequestedElementIsProvided = "DIB0004";
    public const string InvalidElementName = "DIB0005";
    public const string HookClash = "DIB0010";
    public const string HookNotExecutable = "DIB0011";
    public const string BadPackageInstalls = "DIB0012";
    public const string TopLevelFileReplaced = "DIB0013";
    public const string HookNameIgnored = "DIB0014";
    public const string DanglingHook = "DIB0015";
    public const string UnknownImageFormat = "DIB0020";
    public const string InvalidProperty = "DIB0021";
    public const string InvalidBreakPoint = "DIB0022";
    public const string InvalidOption = "DIB0023";
    public const string UnsupportedImageFormat = "DIB0024";
    public const string NotRoot = "DIB0030";
    public const string MissingHostTools = "DIB0031";
    public const string ScriptFailed = "DIB0040";
    public const string Cancelled = "DIB0041";
    public const string MountsLeftBehind = "DIB0042";
    public const string NoRootTree = "DIB0043";
    public const string StoppedAtBreakPoint = "DIB0044";
    public const string ImageLocked = "DIB0045";
    public const string HostFileError = "DIB0046";
    public const string OutputFailed = "DIB0050";
    public const string PhaseCacheUnavailable = "DIB0060";
    public const string SnapshotInvalid = "DIB0061";

    // 007x: DIB's infrastructure elements (package-installs, pkg-map, install types, manifests).
    public const string WhenVariableNotSet = "DIB0070";
    public const string EnvironmentFilesFailed = "DIB0071";
    public const string ToolFailed = "DIB0100";
    public const string PartitionLayoutDoesNotFit = "DIB0200";
    public const string InvalidPartitionLayout = "DIB0201";
    public const string DiskFileMismatch = "DIB0202";
    public const string FileSystemFailed = "DIB0210";
    public const string NoBootloader = "DIB0211";
    public const string NoKernel = "DIB0212";
    public const string ImageTooSmall = "DIB0213";
    public const string BootFailed = "DIB0214";
    public const string InvalidImagePath = "DIB0300";
    public const string ImagePathCollision = "DIB0301";
    public const string InvalidImageItem = "DIB0302";
    public const string ImageFileNotFound = "DIB0303";
    public const string AppEntryPointNotFound = "DIB0304";
    public const string Internal = "DIB0999";
}

/// <summary>Where a diagnostic points: a file and a 1-based line (0 when unknown).</summary>
public sealed record SourceLocation(string File, int Line = 0)
{
    public override string ToString() => Line > 0 ? $"{File}({Line})" : File;
}

/// <summary>One error or warning: code, message and optional location.</summary>
public sealed record Diagnostic(string Code, string Message, SourceLocation? Location = null);

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
        const int ENOSPC = 28, EDQUOT = 122, EROFS = 30, EACCES = 13, EPERM = 1;
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
            _ => exception is DirectoryNotFoundException or FileNotFoundException or PathTooLongException ? string.Empty : null,
        };
    }
}
