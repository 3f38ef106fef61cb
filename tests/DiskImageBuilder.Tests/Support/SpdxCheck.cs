using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The SPDX 2.3 JSON schema's requirements, checked by hand: no schema validator runs here without
/// the schema file, which cannot be fetched. Checked: the document's required fields (spdxVersion
/// "SPDX-2.3", dataLicense "CC0-1.0", SPDXID "SPDXRef-DOCUMENT", name, documentNamespace an absolute
/// URI without '#', creationInfo.created as YYYY-MM-DDThh:mm:ssZ, creationInfo.creators with
/// "Tool: "/"Person: "/"Organization: "); each package's (name, SPDXID matching
/// ^SPDXRef-[A-Za-z0-9.-]+$ and unique, downloadLocation; packageVerificationCode unless
/// filesAnalyzed is false; checksums with a known algorithm and a hex value of its length;
/// primaryPackagePurpose and externalRefs' referenceCategory from the schema's enums); each
/// relationship's (spdxElementId, relationshipType from the schema's enum, relatedSpdxElement naming
/// an element of the document); and a hasExtractedLicensingInfos entry (licenseId, extractedText)
/// for every LicenseRef- a licence field uses.
/// </summary>
public static partial class SpdxCheck
{
    private static readonly string[] Purposes = ["APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "OPERATING-SYSTEM", "DEVICE", "FIRMWARE", "SOURCE", "ARCHIVE", "FILE", "INSTALL", "OTHER"];
    private static readonly string[] RefCategories = ["SECURITY", "PACKAGE-MANAGER", "PACKAGE_MANAGER", "PERSISTENT-ID", "PERSISTENT_ID", "OTHER"];
    private static readonly Dictionary<string, int> ChecksumLengths = new() { ["SHA1"] = 40, ["SHA256"] = 64, ["SHA512"] = 128, ["MD5"] = 32 };

    private static readonly string[] RelationshipTypes =
    [
        "VARIANT_OF", "COPY_OF", "PATCH_FOR", "TEST_DEPENDENCY_OF", "CONTAINED_BY", "DATA_FILE_OF", "OPTIONAL_COMPONENT_OF", "ANCESTOR_OF",
        "GENERATES", "CONTAINS", "OPTIONAL_DEPENDENCY_OF", "FILE_ADDED", "REQUIREMENT_DESCRIPTION_FOR", "DEV_DEPENDENCY_OF", "DEPENDENCY_OF",
        "BUILD_DEPENDENCY_OF", "DESCRIBES", "PREREQUISITE_FOR", "HAS_PREREQUISITE", "PROVIDED_DEPENDENCY_OF", "DYNAMIC_LINK", "DESCRIBED_BY",
        "METAFILE_OF", "DEPENDENCY_MANIFEST_OF", "PATCH_APPLIED", "RUNTIME_DEPENDENCY_OF", "TEST_OF", "TEST_TOOL_OF", "DEPENDS_ON", "SPECIFICATION_FOR",
        "FILE_MODIFIED", "DISTRIBUTION_ARTIFACT", "AMENDS", "DOCUMENTATION_OF", "GENERATED_FROM", "STATIC_LINK", "OTHER", "BUILD_TOOL_OF",
        "TEST_CASE_OF", "PACKAGE_OF", "DESCENDANT_OF", "FILE_DELETED", "EXPANDED_FROM_ARCHIVE", "DEV_TOOL_OF", "EXAMPLE_OF",
    ];

    /// <summary>Every way the document breaks the schema's requirements; empty when it meets them.</summary>
    public static IReadOnlyList<string> Problems(JsonElement d)
    {
        var problems = new List<string>();
        string? Text(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0 ? v.GetString() : null;
        void Require(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }

        Require(Text(d, "spdxVersion") == "SPDX-2.3", "spdxVersion is not SPDX-2.3");
        Require(Text(d, "dataLicense") == "CC0-1.0", "dataLicense is not CC0-1.0");
        Require(Text(d, "SPDXID") == "SPDXRef-DOCUMENT", "SPDXID is not SPDXRef-DOCUMENT");
        Require(Text(d, "name") is not null, "no name");
        var ns = Text(d, "documentNamespace");
        Require(ns is not null && Uri.TryCreate(ns, UriKind.Absolute, out _) && !ns.Contains('#', StringComparison.Ordinal), "documentNamespace is no absolute URI without '#'");
        if (d.TryGetProperty("creationInfo", out var info))
        {
            Require(Text(info, "created") is { } c && Created().IsMatch(c), "creationInfo.created is not YYYY-MM-DDThh:mm:ssZ");
            Require(
                info.TryGetProperty("creators", out var creators) && creators.GetArrayLength() > 0
                && creators.EnumerateArray().All(x => x.GetString() is { } s && (s.StartsWith("Tool: ", StringComparison.Ordinal) || s.StartsWith("Person: ", StringComparison.Ordinal) || s.StartsWith("Organization: ", StringComparison.Ordinal))),
                "creationInfo.creators is empty or malformed");
        }
        else
        {
            problems.Add("no creationInfo");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal) { "SPDXRef-DOCUMENT" };
        var licenseRefs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in d.TryGetProperty("packages", out var packages) ? packages.EnumerateArray() : Enumerable.Empty<JsonElement>())
        {
            var id = Text(p, "SPDXID");
            Require(Text(p, "name") is not null, $"package {id} has no name");
            Require(id is not null && Id().IsMatch(id) && ids.Add(id), $"package SPDXID '{id}' is malformed or not unique");
            Require(Text(p, "downloadLocation") is not null, $"package {id} has no downloadLocation");
            var analysed = !p.TryGetProperty("filesAnalyzed", out var fa) || fa.GetBoolean();
            Require(!analysed || p.TryGetProperty("packageVerificationCode", out _), $"package {id} has files analysed but no packageVerificationCode");
            if (p.TryGetProperty("checksums", out var sums))
            {
                foreach (var s in sums.EnumerateArray())
                {
                    Require(
                        Text(s, "algorithm") is { } alg && ChecksumLengths.TryGetValue(alg, out var len) && Text(s, "checksumValue") is { } v && v.Length == len && Hex().IsMatch(v),
                        $"package {id} has a malformed checksum");
                }
            }

            Require(Text(p, "primaryPackagePurpose") is not { } purpose || Purposes.Contains(purpose), $"package {id} has an unknown primaryPackagePurpose");
            foreach (var r in p.TryGetProperty("externalRefs", out var refs) ? refs.EnumerateArray() : Enumerable.Empty<JsonElement>())
            {
                Require(
                    Text(r, "referenceCategory") is { } cat && RefCategories.Contains(cat) && Text(r, "referenceType") is not null && Text(r, "referenceLocator") is not null,
                    $"package {id} has a malformed externalRef");
            }

            foreach (var field in (string[])["licenseConcluded", "licenseDeclared"])
            {
                licenseRefs.UnionWith(LicenseRef().Matches(Text(p, field) ?? string.Empty).Select(m => m.Value));
            }
        }

        var defined = d.TryGetProperty("hasExtractedLicensingInfos", out var extracted)
            ? extracted.EnumerateArray().Where(e => Text(e, "extractedText") is not null).Select(e => Text(e, "licenseId")).ToHashSet(StringComparer.Ordinal)
            : [];
        licenseRefs.Where(r => !defined.Contains(r)).ToList().ForEach(r => problems.Add($"{r} is used but not in hasExtractedLicensingInfos"));

        foreach (var r in d.TryGetProperty("relationships", out var relationships) ? relationships.EnumerateArray() : Enumerable.Empty<JsonElement>())
        {
            Require(Text(r, "spdxElementId") is { } from && ids.Contains(from), $"relationship from an unknown element {Text(r, "spdxElementId")}");
            Require(Text(r, "relatedSpdxElement") is { } to && ids.Contains(to), $"relationship to an unknown element {Text(r, "relatedSpdxElement")}");
            Require(Text(r, "relationshipType") is { } type && RelationshipTypes.Contains(type), $"unknown relationshipType {Text(r, "relationshipType")}");
        }

        return problems;
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
    private static partial Regex Created();

    [GeneratedRegex(@"^SPDXRef-[A-Za-z0-9.\-]+$")]
    private static partial Regex Id();

    [GeneratedRegex("^[0-9a-f]+$")]
    private static partial Regex Hex();

    [GeneratedRegex(@"LicenseRef-[A-Za-z0-9.\-]+")]
    private static partial Regex LicenseRef();
}
