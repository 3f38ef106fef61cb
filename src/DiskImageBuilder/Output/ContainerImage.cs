using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Output;

/// <summary>
/// The docker and oci formats: one layer (the tree's tar) in an OCI image layout, written as a tar
/// archive. The docker archive adds the manifest.json that `docker load` and `podman load` read (the
/// layout docker 25 itself saves), so neither a daemon nor a registry is needed to make it.
/// </summary>
internal static partial class ContainerImage
{
    private const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    private const string ConfigType = "application/vnd.oci.image.config.v1+json";
    private const string IndexType = "application/vnd.oci.image.index.v1+json";

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    /// <summary>
    /// DIB's --docker-target as "repository" and "tag" (default tag latest); without one, the image
    /// name made into a valid repository name. A target docker would refuse is DIB0401.
    /// </summary>
    public static (string Repository, string Tag) Target(string? dockerTarget, string imageName, SourceLocation? location)
    {
        if (string.IsNullOrWhiteSpace(dockerTarget))
        {
            var repository = InvalidRepositoryChars().Replace(imageName.ToLowerInvariant(), "-").Trim('-', '.', '_');
            return (repository.Length == 0 ? "image" : repository, "latest");
        }

        var target = dockerTarget.Trim();
        var colon = target.LastIndexOf(':');
        var (repo, tag) = colon > target.LastIndexOf('/') ? (target[..colon], target[(colon + 1)..]) : (target, "latest");
        if (!Repository().IsMatch(repo) || !Tag().IsMatch(tag))
        {
            throw new DibException(
                DibCodes.InvalidDockerTarget,
                $"Invalid docker target '{dockerTarget}': use REPOSITORY[:TAG], the repository in lower case (a-z, 0-9, '.', '_', '-', '/' between parts, an optional registry host[:port]/ first), the tag up to 128 of A-Z a-z 0-9 _ . - (not starting with '.' or '-').",
                location);
        }

        return (repo, tag);
    }

    /// <param name="layerTar">The tree as an uncompressed tar (the tar format's file, or a scratch copy).</param>
    /// <param name="docker">The docker archive (uncompressed layer plus manifest.json) rather than the OCI archive (gzip layer).</param>
    /// <param name="scratch">A folder for the compressed layer, removed with the work directory.</param>
    public static void Write(
        string layerTar, string destination, bool docker, (string Repository, string Tag) target, string architecture, bool hasShell, DateTimeOffset created, string scratch, CancellationToken cancellationToken)
    {
        var diffId = Sha256Of(layerTar, cancellationToken);
        var layer = layerTar;
        if (!docker)
        {
            Directory.CreateDirectory(scratch);
            layer = Path.Combine(scratch, "layer.tar.gz");
            using (var input = File.OpenRead(layerTar))
            using (var output = File.Create(layer))
            using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
            {
                // GZipStream's header carries no name and no time: the same tar gives the same layer.
                input.CopyToAsync(gzip, cancellationToken).GetAwaiter().GetResult();
            }
        }

        var layerDigest = docker ? diffId : Sha256Of(layer, cancellationToken);
        var stamp = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var containerConfig = new JsonObject { ["Env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") };
        if (hasShell)
        {
            containerConfig["Cmd"] = new JsonArray("/bin/sh");
        }

        var config = Bytes(new JsonObject
        {
            ["created"] = stamp,
            ["architecture"] = OciArchitecture(architecture),
            ["os"] = "linux",
            ["config"] = containerConfig,
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray("sha256:" + diffId) },
            ["history"] = new JsonArray(new JsonObject { ["created"] = stamp, ["created_by"] = "DiskImageBuilder" }),
        });
        var configDigest = Convert.ToHexStringLower(SHA256.HashData(config));
        var manifest = Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["config"] = Descriptor(ConfigType, configDigest, config.Length),
            ["layers"] = new JsonArray(Descriptor(
                docker ? "application/vnd.oci.image.layer.v1.tar" : "application/vnd.oci.image.layer.v1.tar+gzip", layerDigest, new FileInfo(layer).Length)),
        });
        var manifestDigest = Convert.ToHexStringLower(SHA256.HashData(manifest));
        var reference = docker ? $"{target.Repository}:{target.Tag}" : target.Tag;
        var manifestDescriptor = Descriptor(ManifestType, manifestDigest, manifest.Length);
        manifestDescriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = reference };
        var index = Bytes(new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = IndexType, ["manifests"] = new JsonArray(manifestDescriptor) });

        using var archive = File.Create(destination);
        using var writer = new TarWriter(archive, TarEntryFormat.Ustar, leaveOpen: false);
        AddDirectory(writer, "blobs/", created);
        AddDirectory(writer, "blobs/sha256/", created);
        AddFile(writer, $"blobs/sha256/{configDigest}", config, created);
        using (var layerStream = File.OpenRead(layer))
        {
            AddFile(writer, $"blobs/sha256/{layerDigest}", layerStream, created);
        }

        AddFile(writer, $"blobs/sha256/{manifestDigest}", manifest, created);
        AddFile(writer, "index.json", index, created);
        if (docker)
        {
            var dockerManifest = new JsonArray(new JsonObject
            {
                ["Config"] = $"blobs/sha256/{configDigest}",
                ["RepoTags"] = new JsonArray(reference),
                ["Layers"] = new JsonArray($"blobs/sha256/{layerDigest}"),
            });
            AddFile(writer, "manifest.json", Bytes(dockerManifest), created);
        }

        AddFile(writer, "oci-layout", Encoding.UTF8.GetBytes("""{"imageLayoutVersion":"1.0.0"}"""), created);
        if (!docker)
        {
            File.Delete(layer);
        }
    }

    /// <summary>The OCI (Go) name of a DIB architecture.</summary>
    public static string OciArchitecture(string architecture) => architecture switch
    {
        "amd64" or "x86_64" => "amd64",
        "arm64" or "aarch64" => "arm64",
        "i386" or "i686" => "386",
        "ppc64el" or "ppc64le" => "ppc64le",
        "armhf" => "arm",
        _ => architecture,
    };

    public static string Sha256Of(string file, CancellationToken cancellationToken)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashDataAsync(stream, cancellationToken).AsTask().GetAwaiter().GetResult());
    }

    private static JsonObject Descriptor(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = "sha256:" + digest, ["size"] = size };

    private static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(Compact));

    private static void AddDirectory(TarWriter writer, string name, DateTimeOffset time) =>
        writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, name)
        {
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            ModificationTime = time,
        });

    private static void AddFile(TarWriter writer, string name, byte[] data, DateTimeOffset time)
    {
        using var stream = new MemoryStream(data);
        AddFile(writer, name, stream, time);
    }

    private static void AddFile(TarWriter writer, string name, Stream data, DateTimeOffset time) =>
        writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = time,
            DataStream = data,
        });

    [GeneratedRegex("[^a-z0-9._/-]+", RegexOptions.CultureInvariant)]
    private static partial Regex InvalidRepositoryChars();

    // docker's reference grammar: an optional host[:port]/, then lower-case path components joined by '/'.
    [GeneratedRegex(@"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Repository();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Tag();
}
