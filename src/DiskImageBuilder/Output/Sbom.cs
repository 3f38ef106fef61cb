using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Output;

/// <summary>
/// The image's software bill of materials: every installed package (name, version, architecture,
/// source package, licence where the package's copyright file says it) and the elements that
/// built it, as SPDX 2.3 JSON and CycloneDX 1.5 JSON. Beside the image they also give each output
/// file's SHA-256; the copies in the image's /etc/dib-manifests cannot hold the checksums of the
/// images that contain them, so they list the packages and elements only.
/// </summary>
internal static partial class Sbom
{
    public const string SpdxExtension = "spdx.json";
    public const string CycloneDxExtension = "cdx.json";

    /// <summary>Where DIB's manifests go in the image (the base and manifests elements make it).</summary>
    public const string ManifestDirectory = "etc/dib-manifests";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>What the documents describe.</summary>
    /// <param name="Images">Each output file and its SHA-256 (none for the copy inside the image).</param>
    public sealed record Content(
        string ImageName, IReadOnlyList<string> Elements, IReadOnlyList<InstalledPackage> Packages, string Distro,
        IReadOnlyList<(string Path, string Sha256)> Images, DateTimeOffset Created);

    /// <summary>The two files beside the image: IMAGE.spdx.json and IMAGE.cdx.json.</summary>
    public static IReadOnlyList<string> PathsBeside(string imageStem) => [$"{imageStem}.{SpdxExtension}", $"{imageStem}.{CycloneDxExtension}"];

    /// <summary>Writes the document <paramref name="path"/> names by its extension (SPDX or CycloneDX), atomically.</summary>
    public static void Write(Content content, string path, IBuildLog log) =>
        Outputs.WriteAtomically(path, log, partial => File.WriteAllText(
            partial, (path.EndsWith(SpdxExtension, StringComparison.Ordinal) ? Spdx(content) : CycloneDx(content)).ToJsonString(Indented) + "\n"));

    /// <summary>The SPDX 2.3 document.</summary>
    public static JsonObject Spdx(Content c)
    {
        var packages = new JsonArray();
        var relationships = new JsonArray();
        var imageIds = new List<string>();
        var image = c.Images.Count == 0 ? [(c.ImageName, (string?)null)] : c.Images.Select(i => (Path.GetFileName(i.Path), (string?)i.Sha256)).ToList();
        foreach (var (file, sha) in image)
        {
            var id = $"SPDXRef-Image-{Id(file)}";
            imageIds.Add(id);
            var package = new JsonObject
            {
                ["name"] = c.ImageName,
                ["SPDXID"] = id,
                ["packageFileName"] = file,
                ["downloadLocation"] = "NOASSERTION",
                ["filesAnalyzed"] = false,
                ["primaryPackagePurpose"] = "OPERATING-SYSTEM",
                ["licenseConcluded"] = "NOASSERTION",
                ["licenseDeclared"] = "NOASSERTION",
                ["copyrightText"] = "NOASSERTION",
            };
            if (sha is not null)
            {
                package["checksums"] = new JsonArray(new JsonObject { ["algorithm"] = "SHA256", ["checksumValue"] = sha });
            }

            packages.Add(package);
            relationships.Add(Relationship("SPDXRef-DOCUMENT", "DESCRIBES", id));
        }

        var references = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (p, index) in c.Packages.Select((p, i) => (p, i)))
        {
            var id = $"SPDXRef-Package-deb-{index}-{Id(p.Name)}";
            var license = p.License ?? "NOASSERTION";
            references.UnionWith(DebianCopyright.Identifiers(license).Where(DebianCopyright.IsReference));
            packages.Add(new JsonObject
            {
                ["name"] = p.Name,
                ["SPDXID"] = id,
                ["versionInfo"] = p.Version,
                ["downloadLocation"] = "NOASSERTION",
                ["filesAnalyzed"] = false,
                ["sourceInfo"] = $"built from the source package {p.SourceName} {p.SourceVersion}",
                ["primaryPackagePurpose"] = "LIBRARY",
                ["licenseConcluded"] = "NOASSERTION",
                ["licenseDeclared"] = license,
                ["copyrightText"] = "NOASSERTION",
                ["externalRefs"] = new JsonArray(new JsonObject
                {
                    ["referenceCategory"] = "PACKAGE-MANAGER",
                    ["referenceType"] = "purl",
                    ["referenceLocator"] = p.Purl(c.Distro),
                }),
                ["attributionTexts"] = new JsonArray($"architecture: {p.Architecture}", $"source: {p.SourceName} {p.SourceVersion}"),
            });
            imageIds.ForEach(image => relationships.Add(Relationship(image, "CONTAINS", id)));
        }

        foreach (var element in c.Elements)
        {
            var id = $"SPDXRef-Element-{Id(element)}";
            packages.Add(new JsonObject
            {
                ["name"] = element,
                ["SPDXID"] = id,
                ["downloadLocation"] = "NOASSERTION",
                ["filesAnalyzed"] = false,
                ["primaryPackagePurpose"] = "SOURCE",
                ["comment"] = "a diskimage-builder element that built the image",
                ["licenseConcluded"] = "NOASSERTION",
                ["licenseDeclared"] = "NOASSERTION",
                ["copyrightText"] = "NOASSERTION",
            });
            imageIds.ForEach(image => relationships.Add(Relationship(image, "GENERATED_FROM", id)));
        }

        var document = new JsonObject
        {
            ["spdxVersion"] = "SPDX-2.3",
            ["dataLicense"] = "CC0-1.0",
            ["SPDXID"] = "SPDXRef-DOCUMENT",
            ["name"] = c.ImageName,
            ["documentNamespace"] = $"https://spdx.org/spdxdocs/diskimagebuilder/{Uri.EscapeDataString(c.ImageName)}-{Identity(c)}",
            ["creationInfo"] = new JsonObject
            {
                ["created"] = Stamp(c.Created),
                ["creators"] = new JsonArray($"Tool: DiskImageBuilder-{ToolVersion}"),
            },
            ["packages"] = packages,
            ["relationships"] = relationships,
        };
        if (references.Count > 0)
        {
            document["hasExtractedLicensingInfos"] = new JsonArray([.. references.Select(r => (JsonNode)new JsonObject
            {
                ["licenseId"] = r,
                ["name"] = r["LicenseRef-".Length..],
                ["extractedText"] = $"The licence Debian names '{r["LicenseRef-".Length..]}': its text is in the machine-readable /usr/share/doc/PACKAGE/copyright files of the packages that declare it.",
            })]);
        }

        return document;
    }

    /// <summary>The CycloneDX 1.5 document.</summary>
    public static JsonObject CycloneDx(Content c)
    {
        var components = new JsonArray();
        foreach (var p in c.Packages)
        {
            var component = new JsonObject
            {
                ["type"] = "library",
                ["bom-ref"] = p.Purl(c.Distro),
                ["name"] = p.Name,
                ["version"] = p.Version,
                ["purl"] = p.Purl(c.Distro),
                ["properties"] = new JsonArray(
                    Property("dib:architecture", p.Architecture), Property("dib:source-package", p.SourceName), Property("dib:source-version", p.SourceVersion)),
            };
            if (p.License is not null)
            {
                component["licenses"] = new JsonArray(new JsonObject { ["expression"] = p.License });
            }

            components.Add(component);
        }

        foreach (var element in c.Elements)
        {
            components.Add(new JsonObject
            {
                ["type"] = "data",
                ["bom-ref"] = $"dib-element:{element}",
                ["group"] = "diskimage-builder-elements",
                ["name"] = element,
                ["scope"] = "excluded",
                ["description"] = "a diskimage-builder element that built the image",
            });
        }

        var image = new JsonObject
        {
            ["type"] = "operating-system",
            ["bom-ref"] = $"image:{c.ImageName}",
            ["name"] = c.ImageName,
        };
        if (c.Images.Count > 0)
        {
            image["components"] = new JsonArray([.. c.Images.Select(i => (JsonNode)new JsonObject
            {
                ["type"] = "file",
                ["bom-ref"] = $"file:{Path.GetFileName(i.Path)}",
                ["name"] = Path.GetFileName(i.Path),
                ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = i.Sha256 }),
            })]);
        }

        return new JsonObject
        {
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = "1.5",
            ["serialNumber"] = $"urn:uuid:{Identity(c)}",
            ["version"] = 1,
            ["metadata"] = new JsonObject
            {
                ["timestamp"] = Stamp(c.Created),
                ["tools"] = new JsonObject { ["components"] = new JsonArray(new JsonObject { ["type"] = "application", ["name"] = "DiskImageBuilder", ["version"] = ToolVersion }) },
                ["component"] = image,
            },
            ["components"] = components,
            ["dependencies"] = new JsonArray(new JsonObject
            {
                ["ref"] = $"image:{c.ImageName}",
                ["dependsOn"] = new JsonArray([.. c.Packages.Select(p => (JsonNode)JsonValue.Create(p.Purl(c.Distro))!).DistinctBy(n => n.GetValue<string>())]),
            }),
        };
    }

    private static string ToolVersion { get; } =
        typeof(Sbom).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A UUID from what the document says: the same image gives the same document.</summary>
    private static Guid Identity(Content c)
    {
        var text = new StringBuilder(c.ImageName).Append('\n');
        c.Images.ToList().ForEach(i => text.Append(Path.GetFileName(i.Path)).Append(' ').Append(i.Sha256).Append('\n'));
        c.Packages.ToList().ForEach(p => text.Append(p.Name).Append(' ').Append(p.Version).Append(' ').Append(p.Architecture).Append('\n'));
        c.Elements.ToList().ForEach(e => text.Append(e).Append('\n'));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5 style (name-based)
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    private static JsonObject Relationship(string from, string type, string to) =>
        new() { ["spdxElementId"] = from, ["relationshipType"] = type, ["relatedSpdxElement"] = to };

    private static JsonObject Property(string name, string value) => new() { ["name"] = name, ["value"] = value };

    private static string Id(string name) => IdChars().Replace(name, "-");

    [GeneratedRegex("[^A-Za-z0-9.-]", RegexOptions.CultureInvariant)]
    private static partial Regex IdChars();
}
