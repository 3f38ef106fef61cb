namespace DiskImageBuilder;

/// <summary>Writes the finished tree to the requested output files.</summary>
public static class Outputs
{
    public static void Write(ImageFormat format, string rootTree, string destination, IBuildLog log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);

        // Written beside the destination and renamed, so a failed or cancelled build never leaves a
        // half-written image where the user (or MSBuild's up-to-date check) would take it as done.
        var partial = destination + ".partial";
        try
        {
            switch (format.Name)
            {
                case "tar":
                    WriteTar(rootTree, partial, log, cancellationToken);
                    break;
                default:
                    throw new DibException(DibCodes.UnknownImageFormat, $"No writer for format '{format.Name}'.");
            }

            File.Move(partial, destination, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        log.Message(LogImportance.Normal, $"DiskImageBuilder: wrote {destination} ({new FileInfo(destination).Length / (1024 * 1024)} MiB)");
    }

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
