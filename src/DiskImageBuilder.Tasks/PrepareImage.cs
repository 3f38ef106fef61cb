using System.Text.RegularExpressions;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Content;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Output;
using DiskImageBuilder.Request;
using DiskImageBuilder.Snapshots;
using MSBuildTask = Microsoft.Build.Utilities.Task;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace DiskImageBuilder.Tasks;

/// <summary>
/// Turns the project's items and properties into a <see cref="BuildRequest"/>, resolves the
/// elements (so bad elements fail fast, with the .dibproj or element-deps line), and writes the
/// request to <see cref="RequestFile"/> only when it changed: that file is the image's MSBuild input.
/// </summary>
public sealed class PrepareImage : MSBuildTask
{
    /// <summary>The .dibproj, where property and item errors point.</summary>
    [Required]
    public string ProjectFile { get; set; } = string.Empty;

    [Required]
    public string ImageName { get; set; } = string.Empty;

    /// <summary>Output formats, ';' separated.</summary>
    public string? ImageFormat { get; set; }

    public string? Architecture { get; set; }

    public string? DistroRelease { get; set; }

    // Booleans are strings here: MSBuild's own conversion fails with MSB4030 inside the SDK's
    // targets; parsed by us, a typo is DIB0021 at the project's line.
    public string? SkipBaseElement { get; set; }

    public string? Trace { get; set; }

    /// <summary>The &lt;Element&gt; items.</summary>
    public ITaskItem[] Elements { get; set; } = [];

    /// <summary>Directories searched for elements before ELEMENTS_PATH and the SDK's own library.</summary>
    public ITaskItem[] ElementsPath { get; set; } = [];

    /// <summary>The SDK's element library, searched last.</summary>
    public string? ElementsDirectory { get; set; }

    /// <summary>&lt;Package&gt; items (DIB's -p).</summary>
    public ITaskItem[] Packages { get; set; } = [];

    /// <summary>&lt;ImageEnvironment Include="DIB_X" Value="…"/&gt; items.</summary>
    public ITaskItem[] ImageEnvironment { get; set; } = [];

    /// <summary>ProjectReference items; those with ImagePath (and PublishDir, set by the targets) are apps for the image.</summary>
    public ITaskItem[] Apps { get; set; } = [];

    /// <summary>&lt;ImageFile Include="local/file" ImagePath="/etc/x.conf" Mode="0644" Owner="root:root"/&gt; items.</summary>
    public ITaskItem[] ImageFiles { get; set; } = [];

    /// <summary>bios, uefi or hybrid.</summary>
    public string? BootMode { get; set; }

    /// <summary>DIB's block-device configuration: a YAML file (relative to the project) or the YAML itself.</summary>
    public string? BlockDeviceConfig { get; set; }

    /// <summary>disk (default) or ramdisk: IMAGE.kernel and IMAGE.initramfs, as ramdisk-image-create.</summary>
    public string? ImageType { get; set; }

    /// <summary>The element that builds the ramdisk (DIB's --ramdisk-element); default ramdisk.</summary>
    public string? RamdiskElement { get; set; }

    /// <summary>The disk size (2G, 512M, …); empty: computed from the tree.</summary>
    public string? ImageSize { get; set; }

    public string? RootLabel { get; set; }

    /// <summary>ext4 (default) or xfs.</summary>
    public string? RootFileSystem { get; set; }

    /// <summary>Extra mke2fs options (DIB's --mkfs-options).</summary>
    public string? MkfsOptions { get; set; }

    /// <summary>Filesystem blocks the root filesystem can grow to online (DIB's --max-online-resize).</summary>
    public string? MaxOnlineResize { get; set; }

    /// <summary>false: qcow2 is not compressed (DIB's -u).</summary>
    public string? ImageCompress { get; set; }

    /// <summary>qemu-img -o options (DIB's --qemu-img-options).</summary>
    public string? QemuImgOptions { get; set; }

    /// <summary>REPOSITORY[:TAG] of the docker format's image (DIB's --docker-target); default the image name.</summary>
    public string? DockerTarget { get; set; }

    /// <summary>Checksum files to write beside each image: sha256, md5 (';' or ',' separated).</summary>
    public string? ImageChecksum { get; set; }

    /// <summary>true: every phase runs, no snapshots are restored or saved.</summary>
    public string? DisablePhaseCache { get; set; }

    /// <summary>Bound on the phase snapshots in the image cache (20G, 512M, …).</summary>
    public string? ImageCacheMaxSize { get; set; }

    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    [Required]
    public string WorkDirectory { get; set; } = string.Empty;

    [Required]
    public string RequestFile { get; set; } = string.Empty;

    /// <summary>
    /// Where the list of the image's input files (element files with their modes, host files copied
    /// in) is written, only when it changes. Inputs/Outputs compares times only: a deleted or renamed
    /// hook makes no input newer, but it changes this list.
    /// </summary>
    public string? InputsFile { get; set; }

    /// <summary>Every resolved element; metadata ElementDir.</summary>
    [Output]
    public ITaskItem[] ResolvedElements { get; private set; } = [];

    /// <summary>Every file of every resolved element: inputs of the image.</summary>
    [Output]
    public ITaskItem[] ElementFiles { get; private set; } = [];

    /// <summary>The host files copied into the image (ImageFile items, published apps): inputs of the image.</summary>
    [Output]
    public ITaskItem[] ContentFiles { get; private set; } = [];

    /// <summary>The image files this request produces.</summary>
    [Output]
    public ITaskItem[] ImageOutputs { get; private set; } = [];

    /// <summary>The checksum files written beside the images.</summary>
    [Output]
    public ITaskItem[] ChecksumFiles { get; private set; } = [];

    /// <summary>The SBOMs written beside the images (SPDX 2.3 and CycloneDX JSON), with Format metadata spdx or cyclonedx.</summary>
    [Output]
    public ITaskItem[] SbomFiles { get; private set; } = [];

    public override bool Execute()
    {
        var log = new MSBuildLog(Log);
        return log.Run(() =>
        {
            var request = CreateRequest();
            var resolved = ImageBuilder.ResolveElements(new ElementRepository(request.ElementsPath), request);
            // A bad block-device configuration, or a BootMode the block-device element contradicts, shows at once (also in the IDE).
            var layoutFile = BlockDeviceChoice.Check(request, resolved, PropertyLocation(Path.GetFullPath(ProjectFile), "BootMode"));

            ResolvedElements = [.. resolved.Elements.Select(e =>
            {
                var item = new TaskItem(e.Name);
                item.SetMetadata("ElementDir", e.Directory + "/");
                return (ITaskItem)item;
            })];
            ElementFiles = [.. resolved.Elements
                .SelectMany(e => Directory.EnumerateFiles(e.Directory, "*", SearchOption.AllDirectories))
                .Order(StringComparer.Ordinal)
                .Select(f => (ITaskItem)new TaskItem(f))];
            // The configuration's file is an input: editing it rebuilds the image.
            ContentFiles = [.. request.Files.Select(f => (ITaskItem)new TaskItem(f.Source)), .. layoutFile is null ? [] : new[] { (ITaskItem)new TaskItem(layoutFile) }];
            ImageOutputs = [.. request.OutputPaths().Select(p => (ITaskItem)new TaskItem(p))];
            ChecksumFiles = [.. request.ChecksumPaths().Select(p => (ITaskItem)new TaskItem(p))];
            SbomFiles = [.. request.SbomPaths().Select((p, i) =>
            {
                var item = new TaskItem(p);
                item.SetMetadata("Format", i == 0 ? "spdx" : "cyclonedx");
                return (ITaskItem)item;
            })];
            WriteIfChanged(RequestFile, request.WithoutSecrets().ToJson());
            if (!Blank(InputsFile))
            {
                WriteIfChanged(InputsFile!, InputsList(ElementFiles.Select(i => i.ItemSpec), ContentFiles.Select(i => i.ItemSpec)));
            }
        });
    }

    /// <summary>One line per input file: the executable bit too, since it decides whether a hook runs.</summary>
    private static string InputsList(IEnumerable<string> elementFiles, IEnumerable<string> contentFiles)
    {
        var text = new System.Text.StringBuilder();
        foreach (var f in elementFiles)
        {
            // A link that leads nowhere is listed as such: the engine names it (DIB0028), and fixing it rebuilds.
            string kind;
            try
            {
                kind = (File.GetUnixFileMode(f) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0 ? "x " : "- ";
            }
            catch (IOException) when (new FileInfo(f).LinkTarget is not null)
            {
                kind = "! ";
            }

            text.Append(kind).Append(f).Append('\n');
        }

        foreach (var f in contentFiles)
        {
            text.Append("c ").Append(f).Append('\n');
        }

        return text.ToString();
    }

    internal BuildRequest CreateRequest()
    {
        var project = Path.GetFullPath(ProjectFile);
        var searchPath = RequestValues.SearchPath(
            ElementsPath.Select(i => i.GetMetadata("FullPath")), Environment.GetEnvironmentVariable("ELEMENTS_PATH"), ElementsDirectory);

        var (files, services) = Content(project);
        var formats = string.IsNullOrWhiteSpace(ImageFormat) ? [ImageFormats.Default] : new[] { ImageFormat! };
        ImageFormats.Parse(formats, PropertyLocation(project, "ImageFormat"));
        var rootFileSystem = FileSystems.NormalizeType(RootFileSystem, PropertyLocation(project, "RootFileSystem"));
        return new BuildRequest
        {
            ImageName = ImageName,
            Elements = [.. Elements.Select(i => new ElementRequest(i.ItemSpec, ItemLocation(i, project)))],
            ElementsPath = searchPath,
            Formats = formats,
            Architecture = Architectures.Normalize(Architecture, PropertyLocation(project, "Architecture")),
            DistroRelease = string.IsNullOrWhiteSpace(DistroRelease) ? null : DistroRelease.Trim(),
            SkipBaseElement = Flag(SkipBaseElement, false, project, "SkipBaseElement"),
            Packages = [.. Packages.Select(p => p.ItemSpec)],
            Environment = CallerEnvironment(ImageEnvironment),
            RamdiskElement = RequestValues.ParseImageType(ImageType, RamdiskElement, Environment.GetEnvironmentVariable, PropertyLocation(project, "ImageType")),
            Files = files,
            Services = services,
            OutputDirectory = Path.GetFullPath(OutputDirectory),
            WorkDirectory = Path.GetFullPath(WorkDirectory),
            Trace = Flag(Trace, false, project, "ImageTrace"),
            BootMode = BootModes.NormalizeChoice(BootMode, PropertyLocation(project, "BootMode")),
            BlockDeviceConfig = Blank(BlockDeviceConfig) ? null : BlockDeviceConfig,
            ImageSize = Blank(ImageSize) ? null : RequestValues.ParseImageSize(ImageSize!, "ImageSize", PropertyLocation(project, "ImageSize")),
            RootFileSystem = rootFileSystem,
            RootLabel = Blank(RootLabel) ? null : RequestValues.ParseRootLabel(
                RootLabel!.Trim(), "RootLabel", PropertyLocation(project, "RootLabel"), FileSystems.MaxLabelLength(rootFileSystem)),
            MkfsOptions = Blank(MkfsOptions) ? null : MkfsOptions,
            MaxOnlineResize = Blank(MaxOnlineResize) ? null : RequestValues.ParseCount(MaxOnlineResize!, "MaxOnlineResize", PropertyLocation(project, "MaxOnlineResize")),
            NoCompression = !Flag(ImageCompress, true, project, "ImageCompress"),
            QemuImgOptions = Blank(QemuImgOptions) ? null : QemuImgOptions,
            DockerTarget = Blank(DockerTarget) ? null : DockerTarget,
            Checksums = Blank(ImageChecksum) ? [] : RequestValues.ParseChecksums(ImageChecksum!.Replace(';', ','), "ImageChecksum", PropertyLocation(project, "ImageChecksum")),
            PhaseCache = !Flag(DisablePhaseCache, false, project, "DisablePhaseCache"),
            ImageCacheMaxSize = Blank(ImageCacheMaxSize) ? null : RequestValues.ParseImageSize(ImageCacheMaxSize!, "ImageCacheMaxSize", PropertyLocation(project, "ImageCacheMaxSize")),
            ProjectFile = project,
        };
    }

    private (IReadOnlyList<ImageFileRequest> Files, IReadOnlyList<ServiceRequest> Services) Content(string project)
    {
        var files = new List<ImageFileRequest>();
        var services = new List<ServiceRequest>();
        var apps = new List<(string, string, SourceLocation?)>();
        foreach (var item in Apps.Where(a => !Blank(a.GetMetadata("ImagePath"))))
        {
            var location = ItemLocation(item, project, "ProjectReference");
            var name = item.GetMetadata("Filename");
            var (appFiles, service) = ImageContent.ForApp(new AppSpec(name, item.GetMetadata("PublishDir"), item.GetMetadata("ImagePath"))
            {
                ServiceName = item.GetMetadata("ServiceName"),
                ServiceEnvironment = item.GetMetadata("ServiceEnvironment"),
                Location = location,
            });
            files.AddRange(appFiles);
            services.AddRange(service is null ? [] : [service]);
            apps.Add((name, ImageContent.ParseImagePath(item.GetMetadata("ImagePath"), location), location));
        }

        files.AddRange(ImageFiles.Select(i => ImageContent.ImageFile(
            i.GetMetadata("FullPath"), i.GetMetadata("ImagePath"), i.GetMetadata("Mode"), i.GetMetadata("Owner"), ItemLocation(i, project, "ImageFile"))));
        ImageContent.CheckCollisions(files, services, apps);
        return (files, services);
    }

    /// <summary>DIB_* and proxy variables of this build's environment, overridden by ImageEnvironment items.</summary>
    internal static Dictionary<string, string> CallerEnvironment(ITaskItem[] items) =>
        DiskImageBuilder.Hooks.ImageEnvironment.Collect(
            RequestValues.ProcessEnvironment(), items.Select(i => new KeyValuePair<string, string>(i.ItemSpec, i.GetMetadata("Value"))));

    private static bool Blank(string? value) => string.IsNullOrWhiteSpace(value);

    private static bool Flag(string? value, bool fallback, string project, string property) =>
        RequestValues.ParseBool(value, fallback, property, PropertyLocation(project, property));

    /// <summary>The file and line of an item's Include, so errors about it are clickable.</summary>
    private static SourceLocation ItemLocation(ITaskItem item, string fallbackProject, string itemType = "Element")
    {
        var file = item.GetMetadata("DefiningProjectFullPath");
        file = string.IsNullOrEmpty(file) ? fallbackProject : file;
        var pattern = new Regex($"<{item.GetMetadata("_DibItemType").DefaultIfEmpty(itemType)}\\b[^>]*Include\\s*=\\s*\"{Regex.Escape(item.ItemSpec)}\"", RegexOptions.CultureInvariant);
        return new SourceLocation(file, FindLine(file, pattern));
    }

    /// <summary>The line of the project that sets the property (0 when it is set elsewhere).</summary>
    internal static SourceLocation PropertyLocation(string project, string property) =>
        new(project, FindLine(project, new Regex($"<{property}[\\s>]", RegexOptions.CultureInvariant)));

    private static int FindLine(string file, Regex pattern)
    {
        if (!File.Exists(file))
        {
            return 0;
        }

        var n = 0;
        foreach (var line in File.ReadLines(file))
        {
            n++;
            if (pattern.IsMatch(line))
            {
                return n;
            }
        }

        return 0;
    }

    /// <summary>Writes only a changed file, readable by its owner only (the request names hosts, paths and variables).</summary>
    private static void WriteIfChanged(string path, string content)
    {
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (File.Exists(path) && File.ReadAllText(path) == content)
        {
            if (File.GetUnixFileMode(path) != OwnerOnly)
            {
                File.SetUnixFileMode(path, OwnerOnly);
            }

            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using (var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = OwnerOnly }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        File.SetUnixFileMode(path, OwnerOnly);
    }
}

internal static class StringExtensions
{
    public static string DefaultIfEmpty(this string value, string fallback) => string.IsNullOrEmpty(value) ? fallback : value;
}
