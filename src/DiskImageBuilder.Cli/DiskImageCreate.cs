using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Output;
using DiskImageBuilder.Request;
using DiskImageBuilder.Snapshots;

namespace DiskImageBuilder.Cli;

/// <summary>A parsed disk-image-create command line: the request plus what only the CLI uses.</summary>
public sealed record CreateCommand(BuildRequest Request, string? LogFile, bool Help, bool Version);

/// <summary>disk-image-create [options] ELEMENT...: DIB's options mapped onto a <see cref="BuildRequest"/>.</summary>
public static class DiskImageCreate
{
    public const string Name = "disk-image-create";

    /// <summary>DIB's second command: the same options, a kernel and initramfs instead of a disk image.</summary>
    public const string RamdiskName = "ramdisk-image-create";

    private static readonly OptionSpec Arch = new('a', null, ArgumentKind.Required);
    private static readonly OptionSpec Output = new('o', null, ArgumentKind.Required);
    private static readonly OptionSpec Types = new('t', null, ArgumentKind.Required);
    private static readonly OptionSpec Trace = new('x', null);
    private static readonly OptionSpec NoCompress = new('u', null);
    private static readonly OptionSpec ClearEnv = new('c', null);
    private static readonly OptionSpec SkipBase = new('n', null);
    private static readonly OptionSpec Packages = new('p', null, ArgumentKind.Required);
    private static readonly OptionSpec Help = new('h', "help");
    private static readonly OptionSpec Version = new(null, "version");
    private static readonly OptionSpec ImageSize = new(null, "image-size", ArgumentKind.Required);
    private static readonly OptionSpec ImageCache = new(null, "image-cache", ArgumentKind.Required);
    private static readonly OptionSpec MaxOnlineResize = new(null, "max-online-resize", ArgumentKind.Required);
    private static readonly OptionSpec MkfsOptions = new(null, "mkfs-options", ArgumentKind.Required);
    private static readonly OptionSpec QemuImgOptions = new(null, "qemu-img-options", ArgumentKind.Required);
    private static readonly OptionSpec RootLabel = new(null, "root-label", ArgumentKind.Required);
    private static readonly OptionSpec InstallType = new(null, "install-type", ArgumentKind.Required);
    private static readonly OptionSpec DockerTarget = new(null, "docker-target", ArgumentKind.Required);
    private static readonly OptionSpec Checksum = new(null, "checksum", ArgumentKind.Optional);
    private static readonly OptionSpec Offline = new(null, "offline");
    private static readonly OptionSpec NoTmpfs = new(null, "no-tmpfs");
    private static readonly OptionSpec MinTmpfs = new(null, "min-tmpfs", ArgumentKind.Required);
    private static readonly OptionSpec LogFile = new(null, "logfile", ArgumentKind.Required);
    private static readonly OptionSpec NoPhaseCache = new(null, "no-phase-cache");
    private static readonly OptionSpec ImageCacheMaxSize = new(null, "image-cache-max-size", ArgumentKind.Required);
    private static readonly OptionSpec RamdiskElement = new(null, "ramdisk-element", ArgumentKind.Required);

    public static readonly IReadOnlyList<OptionSpec> Options =
    [
        Arch, Output, Types, Trace, NoCompress, ClearEnv, SkipBase, Packages, Help, Version, ImageSize, ImageCache,
        MaxOnlineResize, MkfsOptions, QemuImgOptions, RootLabel, InstallType, DockerTarget, Checksum, Offline,
        NoTmpfs, MinTmpfs, LogFile, NoPhaseCache, ImageCacheMaxSize, RamdiskElement,
    ];

    public const string Usage = """
        Usage: disk-image-create [OPTION]... ELEMENT...
        Build an image from diskimage-builder style elements (output formats: {formats}).

          -a ARCH               architecture (amd64, arm64, …; x86_64/aarch64 accepted)
          -o NAME               output path without extension: -o web writes ./web.qcow2 (default: image)
          -t FORMAT[,FORMAT]    output formats (default: qcow2)
          -x                    trace hook scripts (set -x)
          -u                    do not compress the image (qcow2 is zstd-compressed by default)
          -c                    clear the environment: DIB_* variables of the caller are not passed on
          -n                    do not add the base element
          -p PACKAGE[,PACKAGE]  extra packages to install (repeatable)
          --image-size SIZE     image size: 2G, 512M, or a bare number of GB (for disk formats)
          --image-cache DIR     cache directory (DIB_IMAGE_CACHE)
          --max-online-resize N filesystem blocks the root fs may grow to online (for disk formats)
          --mkfs-options OPTS   extra mkfs options (for disk formats)
          --qemu-img-options O  extra qemu-img options (for disk formats)
          --root-label LABEL    root filesystem label (for disk formats)
          --install-type TYPE   default install type (DIB_DEFAULT_INSTALLTYPE)
          --docker-target NAME  docker image name (for the docker format)
          --checksum[=KINDS]    write checksum files: md5 and sha256, or KINDS of md5,sha256
          --offline             do not refresh caches from the network (DIB_OFFLINE=1)
          --no-tmpfs            build the tree and assemble the disk on disk, not in RAM (DIB_NO_TMPFS=1)
          --min-tmpfs GB        build the tree in RAM only with twice GB available (DIB_MIN_TMPFS, default 2)
          --logfile FILE        also write the build log to FILE
          --no-phase-cache      run every phase: no phase snapshots restored or saved
          --image-cache-max-size SIZE  bound on the phase snapshots in the cache (default 20G)
          --ramdisk-element E   ramdisk-image-create: the element that builds the ramdisk (default ramdisk; RAMDISK_ELEMENT)
          -h, --help            show this help
          --version             show the version

        Environment: ELEMENTS_PATH (':' separated element directories searched before the packaged
        library), DIB_* (passed to the scripts), break=before-PHASE|after-PHASE|after-error (a shell
        in the tree with a terminal; without one the build stops there and keeps its tree).
        """;

    public static int Run(IReadOnlyList<string> args, CliContext context) => Run(args, context, ramdisk: false);

    /// <summary>ramdisk-image-create: IMAGE.kernel and IMAGE.initramfs from the ramdisk element.</summary>
    public static int RunRamdisk(IReadOnlyList<string> args, CliContext context) => Run(args, context, ramdisk: true);

    private static int Run(IReadOnlyList<string> args, CliContext context, bool ramdisk)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = ramdisk ? RamdiskName : Name;
        var command = Parse(args, context, ramdisk);
        if (command.Help)
        {
            context.Out.WriteLine(Usage.Replace("Usage: disk-image-create", "Usage: " + name, StringComparison.Ordinal)
                .Replace("{formats}", string.Join(", ", ImageFormats.Known.Select(f => f.Name)), StringComparison.Ordinal));
            return 0;
        }

        if (command.Version)
        {
            context.Out.WriteLine($"{name} {VersionText()}");
            return 0;
        }

        using var log = new ConsoleLog(name, context, command.LogFile);

        try
        {
            var outputs = ImageBuilder.Build(command.Request, log, context.Interactive, context.CancellationToken);
            foreach (var output in outputs)
            {
                log.Message(LogImportance.High, $"Image file {output} created.");
            }

            return 0;
        }
        catch (Exception ex) when (DibException.DiagnosticsFor(ex, context.CancellationToken.IsCancellationRequested, context.Signals?.CancelledBy) is { } diagnostics)
        {
            log.Errors(diagnostics);
            throw;
        }
    }

    /// <summary>Everything a command line means, checked before any work: a mistake throws and nothing is built.</summary>
    /// <param name="ramdisk">ramdisk-image-create: the ramdisk element is added and the outputs are IMAGE.kernel and IMAGE.initramfs.</param>
    public static CreateCommand Parse(IReadOnlyList<string> args, CliContext context, bool ramdisk = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (options, elements) = GetOpt.Parse(Options, args);
        bool Has(OptionSpec o) => options.Any(x => x.Option == o);
        string? Last(OptionSpec o) => options.LastOrDefault(x => x.Option == o).Value;
        if (Has(Help) || Has(Version))
        {
            return new CreateCommand(Placeholder(context), null, Has(Help), Has(Version));
        }

        if (elements.Count == 0)
        {
            throw new UsageException("no elements given: name at least one element (for example debian-minimal)");
        }

        var explicitEnv = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Last(ImageCache) is { } cache)
        {
            explicitEnv["DIB_IMAGE_CACHE"] = Path.GetFullPath(cache, context.CurrentDirectory);
        }

        if (Last(InstallType) is { } installType)
        {
            explicitEnv["DIB_DEFAULT_INSTALLTYPE"] = installType;
        }

        if (Has(Offline))
        {
            explicitEnv["DIB_OFFLINE"] = "1";
        }

        // -c: like DIB's re-exec under a clean environment, the caller's DIB_* stay out (proxies still pass).
        var callingEnv = Has(ClearEnv)
            ? context.Environment.Where(e => !e.Key.StartsWith("DIB_", StringComparison.Ordinal))
            : context.Environment;

        // DIB's IMAGE_NAME: -o as typed, without the extension when exactly one format is asked for (-o web.qcow2 -t qcow2 writes web.qcow2).
        var formats = ImageFormats.Parse([Last(Types) ?? ImageFormats.Default], null);
        var imageName = Last(Output) ?? "image";
        if (!ramdisk && formats.Count == 1 && imageName.EndsWith("." + formats[0].Extension, StringComparison.Ordinal) && imageName.Length > formats[0].Extension.Length + 1)
        {
            imageName = imageName[..^(formats[0].Extension.Length + 1)];
        }

        var outputPath = Path.GetFullPath(imageName, context.CurrentDirectory);
        if (Has(NoTmpfs))
        {
            explicitEnv["DIB_NO_TMPFS"] = "1";
        }

        if (Last(MinTmpfs) is { } minTmpfs)
        {
            RequestValues.ParseCount(minTmpfs, "--min-tmpfs", null);
            explicitEnv["DIB_MIN_TMPFS"] = minTmpfs;
        }

        var checksums = options.Where(o => o.Option == Checksum).Select(o => o.Value).ToList();
        var request = new BuildRequest
        {
            ImageName = Path.GetFileName(outputPath),
            OutputDirectory = Path.GetDirectoryName(outputPath)!,
            WorkingDirectory = context.CurrentDirectory,
            HookImageName = imageName,
            Arguments = [.. args],
            WorkDirectory = Outputs.ScratchDirectoryFor(outputPath),
            Elements = [.. elements.Select(e => new ElementRequest(e))],
            ElementsPath = RequestValues.SearchPath([], context.Variable("ELEMENTS_PATH"), context.ElementsLibrary),
            Formats = [.. formats.Select(f => f.Name)],
            Architecture = Architectures.Normalize(Last(Arch), null),
            SkipBaseElement = Has(SkipBase),
            Packages = [.. options.Where(o => o.Option == Packages).SelectMany(o => o.Value!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            Environment = ImageEnvironment.Collect(callingEnv, explicitEnv),
            RamdiskElement = ramdisk ? RequestValues.ParseImageType("ramdisk", Last(RamdiskElement), context.Variable, null) : null,
            Trace = Has(Trace),
            NoCompression = Has(NoCompress),
            BreakPoints = BreakPoints.Parse([context.Variable("break") ?? string.Empty], new SourceLocation("environment variable break")),
            ImageSize = Last(ImageSize) is { } size ? RequestValues.ParseImageSize(size, "--image-size", null) : null,
            MaxOnlineResize = Last(MaxOnlineResize) is { } blocks ? RequestValues.ParseCount(blocks, "--max-online-resize", null) : null,
            MkfsOptions = Last(MkfsOptions),
            QemuImgOptions = Last(QemuImgOptions),
            RootLabel = Last(RootLabel) is { } label ? RequestValues.ParseRootLabel(label, "--root-label", null) : null,
            BootMode = BlockDevice.BootModes.NormalizeChoice(context.Variable("DIB_BOOT_MODE"), new SourceLocation("environment variable DIB_BOOT_MODE")),
            RootFileSystem = BlockDevice.FileSystems.NormalizeType(context.Variable("FS_TYPE"), new SourceLocation("environment variable FS_TYPE")),
            DockerTarget = Last(DockerTarget),
            PhaseCache = !Has(NoPhaseCache),
            ImageCacheMaxSize = Last(ImageCacheMaxSize) is { } max ? RequestValues.ParseImageSize(max, "--image-cache-max-size", null) : null,
            Checksums = checksums.Count == 0 ? []
                : checksums[^1] is { } kinds ? RequestValues.ParseChecksums(kinds, "--checksum", null) : RequestValues.ChecksumKinds,
        };

        // Element names are checked here so a typo fails before the host checks and the work directory.
        var resolved = ImageBuilder.ResolveElements(new ElementRepository(request.ElementsPath), request);
        // DIB_BLOCK_DEVICE_CONFIG (or an element's YAML), when given, is the layout: checked here too.
        _ = BlockDevice.BlockDeviceChoice.Check(request, resolved, null);

        var logFile = Last(LogFile) is { } file ? Path.GetFullPath(file, context.CurrentDirectory) : null;
        return new CreateCommand(request, logFile, false, false);
    }



    private static BuildRequest Placeholder(CliContext context) =>
        new() { ImageName = "image", Elements = [], OutputDirectory = context.CurrentDirectory, WorkDirectory = Path.GetTempPath() };

    internal static string VersionText() =>
        typeof(DiskImageCreate).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "unknown";
}
