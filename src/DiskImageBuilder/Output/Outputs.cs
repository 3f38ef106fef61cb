using DiskImageBuilder.Host;

namespace DiskImageBuilder.Output;

/// <summary>Writes the finished tree to the requested output files.</summary>
public static class Outputs
{
    /// <summary>Where the image goes: <c>OutputDirectory/ImageName</c>, with <c>.EXT</c> for one format's file.</summary>
    public static string PathOf(BuildRequest request, ImageFormat? format = null) =>
        Path.Combine(Path.GetFullPath(request.OutputDirectory), format is null ? request.ImageName : $"{request.ImageName}.{format.Extension}");

    /// <summary>
    /// The CLI's work directory, $TMPDIR/dib_build.HASH (DIB's prefix), named by the output path as
    /// the SDK's is by its project (obj/): a build killed outright (kill -9, a CI job's end) cannot
    /// remove its tree, and the next build of the same image does, under the image lock. A random
    /// name would stay behind for ever.
    /// </summary>
    public static string ScratchDirectoryFor(string outputPath) =>
        Path.Combine(Path.GetTempPath(), "dib_build." + Fingerprint.Of(Path.GetFullPath(outputPath))[..8]);

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

    /// <summary>Host programs the tree formats run, for the check before any work.</summary>
    public static IEnumerable<HostTool> HostTools(IReadOnlyList<ImageFormat> formats)
    {
        if (formats.Any(f => f.Name == "squashfs"))
        {
            yield return new HostTool("mksquashfs", "squashfs-tools");
        }
    }

    /// <summary>
    /// Writes every tree format (not the disks) of <paramref name="formats"/>: the tree is archived
    /// once, and tgz, docker and oci are made from that one tar; squashfs reads the tree itself.
    /// </summary>
    /// <param name="scratch">A folder for intermediate files, removed with the work directory.</param>
    public static IReadOnlyList<string> WriteTreeFormats(
        BuildRequest request, IReadOnlyList<ImageFormat> formats, string rootTree, string scratch, IBuildLog log, CancellationToken cancellationToken)
    {
        var outputs = new List<string>();
        var epoch = BuildTime.Epoch(request);
        var tree = formats.Where(f => !f.IsDisk).ToList();
        string? tar = null;
        if (tree.Any(f => f.Name is "tar" or "tgz" or "docker" or "oci"))
        {
            var tarFormat = tree.FirstOrDefault(f => f.Name == "tar");
            if (tarFormat is null)
            {
                Directory.CreateDirectory(scratch);
                tar = Path.Combine(scratch, "tree.tar");
                WriteTar(rootTree, tar, epoch, log, cancellationToken);
            }
            else
            {
                tar = PathOf(request, tarFormat);
                WriteAtomically(tar, log, partial => WriteTar(rootTree, partial, epoch, log, cancellationToken));
                outputs.Add(tar);
            }
        }

        foreach (var format in tree.Where(f => f.Name != "tar"))
        {
            var destination = PathOf(request, format);
            WriteAtomically(destination, log, partial =>
            {
                switch (format.Name)
                {
                    case "tgz":
                        Gzip(tar!, partial, cancellationToken);
                        break;
                    case "squashfs":
                        WriteSquashfs(rootTree, partial, epoch, log, cancellationToken);
                        break;
                    case "docker" or "oci":
                        ContainerImage.Write(
                            tar!, partial, docker: format.Name == "docker", ContainerImage.Target(request.DockerTarget, request.ImageName, null), request.Architecture,
                            HasShell(rootTree), BuildTime.Of(request), scratch, cancellationToken);
                        break;
                    default:
                        throw new DibException(DibCodes.UnknownImageFormat, $"No writer for format '{format.Name}'.");
                }
            });
            outputs.Add(destination);
        }

        if (tar is not null && !outputs.Contains(tar))
        {
            File.Delete(tar);
        }

        return outputs;
    }

    /// <summary>Whether the tree has a shell (/bin/sh, maybe a link that only resolves inside the tree): an OS to run.</summary>
    public static bool HasShell(string rootTree)
    {
        var sh = new FileInfo(Path.Combine(rootTree, "bin", "sh"));
        return sh.Exists || sh.LinkTarget is not null || new FileInfo(Path.Combine(rootTree, "usr", "bin", "sh")).LinkTarget is not null;
    }

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
    /// device nodes; entries are sorted, and the pax headers hold no access or change times and
    /// no process id, so the same tree gives the same archive; with an epoch, mtimes are clamped to it.
    /// </summary>
    private static void WriteTar(string rootTree, string destination, long? epoch, IBuildLog log, CancellationToken cancellationToken)
    {
        var spec = new ProcessSpec(
            "tar",
            ["--create", "--file", destination, "--format=posix", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls",
             "--sort=name", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
             .. epoch is { } e ? (string[])[$"--mtime=@{e}", "--clamp-mtime"] : [],
             "--directory", rootTree, "."]);
        var result = ProcessRunner.Run(spec, line => log.Message(LogImportance.Low, "[tar] " + line), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new DibException(DibCodes.OutputFailed, $"tar failed with exit code {result.ExitCode} writing {destination}.{ProcessRunner.FormatTail(result.Tail)}");
        }
    }

    /// <summary>gzip of the tar, in-process: GZipStream's header holds no file name or time, so the same tar gives the same file.</summary>
    private static void Gzip(string tar, string destination, CancellationToken cancellationToken)
    {
        using var input = File.OpenRead(tar);
        using var output = File.Create(destination);
        using var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal);
        input.CopyToAsync(gzip, cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>
    /// squashfs as live and ramdisk images use it: zstd, owners, modes and xattrs kept; no progress
    /// bar in the log.
    /// </summary>
    private static void WriteSquashfs(string rootTree, string destination, long? epoch, IBuildLog log, CancellationToken cancellationToken)
    {
        // mksquashfs takes SOURCE_DATE_EPOCH from its environment only (with -mkfs-time as well it stops).
        var spec = new ProcessSpec("mksquashfs", [rootTree, destination, "-noappend", "-comp", "zstd", "-no-progress", "-quiet"])
        {
            Environment = epoch is { } e ? new Dictionary<string, string> { [BuildTime.Variable] = e.ToString(System.Globalization.CultureInfo.InvariantCulture) } : null,
        };
        var result = ProcessRunner.Run(spec, line => log.Message(LogImportance.Low, "[mksquashfs] " + line), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new DibException(DibCodes.OutputFailed, $"mksquashfs failed with exit code {result.ExitCode} writing {destination}.{ProcessRunner.FormatTail(result.Tail)}");
        }
    }
}
