using DiskImageBuilder.Host;

namespace DiskImageBuilder.Output;

/// <summary>Writes the finished tree to the requested output files.</summary>
public static class Outputs
{
    /// <summary>Where the image goes: <c>OutputDirectory/ImageName</c>, with <c>.EXT</c> for one format's file.</summary>
    public static string PathOf(BuildRequest request, ImageFormat? format = null) =>
        Path.Combine(Path.GetFullPath(request.OutputDirectory), format is null ? request.ImageName : $"{request.ImageName}.{format.Extension}");

    /// <summary>
    /// Every file named IMAGE_NAME.* beside the image, or inside such a folder: what hooks write
    /// next to $IMAGE_NAME (manifests' IMAGE_NAME.d/, baremetal's IMAGE_NAME.vmlinuz) besides the
    /// images themselves. They are outputs of the build, so a clean removes them.
    /// </summary>
    public static IReadOnlyList<string> BesideImage(BuildRequest request) => BesideImage(PathOf(request));

    /// <param name="stem">The image's path without extension (<see cref="PathOf"/>).</param>
    public static IReadOnlyList<string> BesideImage(string stem)
    {
        var directory = Path.GetDirectoryName(stem)!;
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var prefix = Path.GetFileName(stem) + ".";
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0 };
        return [.. Directory.EnumerateFileSystemEntries(directory, "*", options)
            .Where(e => Path.GetFileName(e).StartsWith(prefix, StringComparison.Ordinal))
            .SelectMany(e => Directory.Exists(e) && new DirectoryInfo(e).LinkTarget is null
                ? Directory.EnumerateFiles(e, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                : [e])
            .Order(StringComparer.Ordinal)];
    }

    public static void Write(ImageFormat format, string rootTree, string destination, IBuildLog log, CancellationToken cancellationToken) =>
        WriteAtomically(destination, log, partial =>
        {
            switch (format.Name)
            {
                case "tar":
                    WriteTar(rootTree, partial, log, cancellationToken);
                    break;
                default:
                    throw new DibException(DibCodes.UnknownImageFormat, $"No writer for format '{format.Name}'.");
            }
        });

    /// <summary>
    /// Every output file is written beside its destination and renamed, so a failed or cancelled
    /// build never leaves a half-written image where the user (or MSBuild's up-to-date check)
    /// would take it as done.
    /// </summary>
    public static void WriteAtomically(string destination, IBuildLog log, Action<string> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var partial = destination + ".partial";
        try
        {
            write(partial);
            File.Move(partial, destination, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        log.Message(LogImportance.Normal, $"DiskImageBuilder: wrote {destination} ({SizeText(destination)}) in {clock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>A file's size for people: MiB, rounded up (a qcow2's size on disk, not its virtual size).</summary>
    public static string SizeText(string path) => $"{(new FileInfo(path).Length + (1024 * 1024) - 1) / (1024 * 1024)} MiB";

    /// <summary>
    /// GNU tar in POSIX (pax) format keeps numeric owners, modes, xattrs, ACLs, hard links and
    /// device nodes; entries are sorted so the same tree gives the same archive listing.
    /// </summary>
    private static void WriteTar(string rootTree, string destination, IBuildLog log, CancellationToken cancellationToken)
    {
        var spec = new ProcessSpec(
            "tar",
            ["--create", "--file", destination, "--format=posix", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls",
             "--sort=name", "--directory", rootTree, "."]);
        var result = ProcessRunner.Run(spec, line => log.Message(LogImportance.Low, "[tar] " + line), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new DibException(DibCodes.OutputFailed, $"tar failed with exit code {result.ExitCode} writing {destination}.{ProcessRunner.FormatTail(result.Tail)}");
        }
    }
}
