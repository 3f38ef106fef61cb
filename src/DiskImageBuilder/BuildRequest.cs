using System.Text.Json.Serialization;
using System.Text.Json;
using DiskImageBuilder.Content;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Output;
using DiskImageBuilder.Snapshots;

namespace DiskImageBuilder;

/// <summary>
/// One immutable description of the image to build. The MSBuild task and the CLI both produce
/// one; the engine consumes nothing else. It is written to obj/ as JSON, so a changed request is a
/// changed MSBuild input.
/// </summary>
public sealed record BuildRequest
{
    public required string ImageName { get; init; }

    public required IReadOnlyList<ElementRequest> Elements { get; init; }

    /// <summary>Directories searched for elements, in order; first match wins.</summary>
    public IReadOnlyList<string> ElementsPath { get; init; } = [];

    public IReadOnlyList<string> Formats { get; init; } = [ImageFormats.Default];

    public string Architecture { get; init; } = "amd64";

    public string? DistroRelease { get; init; }

    /// <summary>DIB's -n: do not add the base element.</summary>
    public bool SkipBaseElement { get; init; }

    /// <summary>DIB's -p: extra packages installed in install.d.</summary>
    public IReadOnlyList<string> Packages { get; init; } = [];

    /// <summary>DIB_* (and other) variables every hook script sees.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Variables of <see cref="Environment"/> whose names look like secrets, with the SHA-256 of
    /// their values in place of the values, in the request file (see <see cref="WithoutSecrets"/>).
    /// Empty in a request that carries the values.
    /// </summary>
    public IReadOnlyDictionary<string, string> SecretHashes { get; init; } = new Dictionary<string, string>();

    /// <summary>Files copied into the image after install.d (ImageFile items, published apps).</summary>
    public IReadOnlyList<ImageFileRequest> Files { get; init; } = [];

    /// <summary>systemd services generated and enabled for published apps.</summary>
    public IReadOnlyList<ServiceRequest> Services { get; init; } = [];

    /// <summary>Where outputs go: OutputDirectory/ImageName.extension.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Scratch space for the tree and the hooks; wiped before and after the build.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>
    /// The element that turns the tree into a kernel and initramfs (ramdisk-image-create,
    /// ImageType=ramdisk; DIB's --ramdisk-element): it is added before the others, and the outputs
    /// are IMAGE.kernel and IMAGE.initramfs instead of the formats. Null: a disk image.
    /// </summary>
    public string? RamdiskElement { get; init; }

    /// <summary>DIB's -x: trace hook scripts (DIB_DEBUG_TRACE=1).</summary>
    public bool Trace { get; init; }

    /// <summary>DIB's break=…: where to stop for a shell (before-install.d, after-error…); see <see cref="BreakPoints"/>.</summary>
    public IReadOnlyList<string> BreakPoints { get; init; } = [];

    // The settings below shape disk images (qcow2, raw, vhd, vmdk); tar ignores them, as in DIB.

    /// <summary>DIB's --image-size in bytes (see <see cref="RequestValues.ParseImageSize"/>).</summary>
    public long? ImageSize { get; init; }

    /// <summary>DIB's --max-online-resize: a count of filesystem blocks, as in DIB.</summary>
    public long? MaxOnlineResize { get; init; }

    /// <summary>DIB's --mkfs-options.</summary>
    public string? MkfsOptions { get; init; }

    /// <summary>DIB's --qemu-img-options.</summary>
    public string? QemuImgOptions { get; init; }

    /// <summary>
    /// bios (MBR), uefi (GPT + ESP) or hybrid (GPT + BIOS boot + ESP); empty: the block-device
    /// element chooses (<see cref="BlockDevice.BlockDeviceChoice"/>), bios without one.
    /// </summary>
    public string BootMode { get; init; } = string.Empty;

    /// <summary>
    /// DIB's block-device configuration: a YAML file's path or the YAML itself (see
    /// <see cref="BlockDevice.BlockDeviceConfigSource"/>); null: DIB_BLOCK_DEVICE_CONFIG, an element's
    /// block-device-default.yaml, or the BootMode layout.
    /// </summary>
    public string? BlockDeviceConfig { get; init; }

    /// <summary>ext4 (default) or xfs (DIB's FS_TYPE).</summary>
    public string RootFileSystem { get; init; } = BlockDevice.FileSystems.Ext4;

    /// <summary>DIB's --root-label.</summary>
    public string? RootLabel { get; init; }

    /// <summary>DIB's --docker-target: REPOSITORY[:TAG] of the docker format's image; default the image name.</summary>
    public string? DockerTarget { get; init; }

    /// <summary>DIB's --checksum: checksum files to write beside each image (md5, sha256).</summary>
    public IReadOnlyList<string> Checksums { get; init; } = [];

    /// <summary>DIB's -u: do not compress the image.</summary>
    public bool NoCompression { get; init; }

    /// <summary>Restore unchanged phases from snapshots in the image cache and snapshot the ones that run (DisablePhaseCache=true: false).</summary>
    public bool PhaseCache { get; init; } = true;

    /// <summary>Bound on the phase snapshots in the image cache, in bytes; least recently used ones go first.</summary>
    public long? ImageCacheMaxSize { get; init; }

    /// <summary>
    /// Where host hooks run (DIB: the caller's working directory). Null: the project's directory
    /// (a .dibproj build), else this process's working directory.
    /// </summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// IMAGE_NAME as hooks see it. The CLI gives DIB's value: -o as typed, without the extension
    /// when one format is asked for. Null: the output path without extension, relative to
    /// <see cref="WorkingDirectory"/> when it lies below it (bin/Debug/web), else absolute.
    /// </summary>
    public string? HookImageName { get; init; }

    /// <summary>DIB_ARGS: the command line as given (CLI). Null: the equivalent disk-image-create arguments.</summary>
    public IReadOnlyList<string>? Arguments { get; init; }

    /// <summary>Where property errors point (the .dibproj).</summary>
    public string? ProjectFile { get; init; }

    /// <summary>
    /// How long to wait for another build holding this image's lock (its outputs, its work
    /// directory); 0 fails at once, null waits without limit. Not part of the request file's content
    /// (it shapes no image): the task and the CLI set it.
    /// </summary>
    [JsonIgnore]
    public int? LockTimeoutSeconds { get; init; }

    /// <summary>DIB_IMAGE_CACHE as given, else DIB's default ~/.cache/image-create.</summary>
    public string CacheDirectory() =>
        Environment.TryGetValue("DIB_IMAGE_CACHE", out var dir) && !string.IsNullOrWhiteSpace(dir)
            ? dir
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache", "image-create");

    public IReadOnlyList<string> OutputPaths() =>
        RamdiskElement is not null
            ? Ramdisk.OutputPaths(Path.Combine(OutputDirectory, ImageName))
            : [.. ImageFormats.Parse(Formats, null).Select(f => Path.Combine(OutputDirectory, $"{ImageName}.{f.Extension}"))];

    /// <summary>The SBOMs written beside the image: IMAGE.spdx.json, IMAGE.cdx.json.</summary>
    public IReadOnlyList<string> SbomPaths() => Output.Sbom.PathsBeside(Path.Combine(OutputDirectory, ImageName));

    /// <summary>The checksum files written beside the outputs (DIB's --checksum).</summary>
    public IReadOnlyList<string> ChecksumPaths() => [.. OutputPaths().SelectMany(o => Checksums.Select(c => $"{o}.{c}"))];

    /// <summary>
    /// The request as the request file holds it: secret-looking variables leave
    /// <see cref="Environment"/> and only their hashes stay, so a changed value still changes the file
    /// (and rebuilds) while the value itself never sits in obj/.
    /// </summary>
    public BuildRequest WithoutSecrets()
    {
        var secrets = Environment.Where(e => ImageEnvironment.LooksSecret(e.Key)).ToList();
        return this with
        {
            Environment = Environment.Where(e => !ImageEnvironment.LooksSecret(e.Key)).ToDictionary(StringComparer.Ordinal),
            SecretHashes = new SortedDictionary<string, string>(
                secrets.ToDictionary(e => e.Key, e => SecretHash(e.Value), StringComparer.Ordinal), StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// The request with the values of <see cref="SecretHashes"/> taken from <paramref name="values"/>
    /// (the build's environment and ImageEnvironment items, collected again at build time); a value
    /// that is missing or differs from its hash is DIB0047.
    /// </summary>
    public BuildRequest WithSecrets(IReadOnlyDictionary<string, string> values)
    {
        if (SecretHashes.Count == 0)
        {
            return this;
        }

        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        foreach (var (name, hash) in SecretHashes)
        {
            if (!values.TryGetValue(name, out var value) || SecretHash(value) != hash)
            {
                throw new DibException(
                    DibCodes.SecretChanged,
                    $"{name} {(value is null ? "is no longer set" : "has another value")} at build time than when the request was prepared; "
                    + "its value is kept out of the request file and read again from the build's environment. Set it the same way for the whole build.",
                    ProjectFile is null ? null : new SourceLocation(ProjectFile));
            }

            environment[name] = value;
        }

        return this with { Environment = environment, SecretHashes = new Dictionary<string, string>() };
    }

    private static string SecretHash(string value) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)));

    public string ToJson() => JsonSerializer.Serialize(this, Request.BuildRequestJsonWriter.Default.BuildRequest);

    public static BuildRequest FromJson(string json) =>
        JsonSerializer.Deserialize(json, Request.BuildRequestJson.Default.BuildRequest) ?? throw new DibException(DibCodes.Internal, "The build request file is empty.");
}
