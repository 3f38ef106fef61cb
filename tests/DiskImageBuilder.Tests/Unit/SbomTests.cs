using System.Text.Json;
using System.Text.Json.Nodes;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The SBOM's documents and the licences read from Debian's machine-readable copyright files.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class SbomTests
{
    private static Sbom.Content Sample(params InstalledPackage[] packages) => new(
        "web", ["base", "debian-minimal"], packages, "debian", [("/out/web.qcow2", new string('a', 64)), ("/out/web.tar", new string('b', 64))],
        DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));

    [Theory]
    [InlineData("GPL-2+", "GPL-2.0-or-later")]
    [InlineData("GPL-2+ or Artistic", "GPL-2.0-or-later OR Artistic-1.0-Perl")]
    [InlineData("GPL-2+ or Artistic, and BSD-3-clause", "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause")]
    [InlineData("Expat and public-domain", "MIT AND LicenseRef-public-domain")]
    [InlineData("GPL-3+ with GCC-exception", "LicenseRef-GPL-3-with-GCC-exception")]
    public void A_License_line_becomes_an_SPDX_expression(string debian, string spdx) => DebianCopyright.Expression(debian).ShouldBe(spdx);

    [Fact]
    public void A_package_licence_comes_from_its_machine_readable_copyright_file_following_links_inside_the_tree_only()
    {
        using var t = new TempDir();
        t.Write("tree/usr/share/doc/libfoo1/copyright", """
            Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
            Upstream-Name: foo

            Files: *
            Copyright: 2020 Someone
            License: LGPL-2.1+

            Files: debian/*
            Copyright: 2021 Packager
            License: GPL-2+
             The full text is in /usr/share/common-licenses/GPL-2.

            License: LGPL-2.1+
             Long text.
            """, executable: false);
        t.Write("tree/usr/share/doc/old-style/copyright", "This package was debianized by someone.\nLicense: GPL\n", executable: false);
        // A doc folder linked relative to the tree, and one linked absolutely: both resolve in the tree, not on the host.
        Directory.CreateSymbolicLink(t.Combine("tree/usr/share/doc/libfoo-dev"), "libfoo1");
        Directory.CreateSymbolicLink(t.Combine("tree/usr/share/doc/libfoo-bin"), "/usr/share/doc/libfoo1");

        var tree = t.Combine("tree");
        DebianCopyright.License(tree, "libfoo1").ShouldBe("LGPL-2.1-or-later AND GPL-2.0-or-later");
        DebianCopyright.License(tree, "libfoo-dev").ShouldBe("LGPL-2.1-or-later AND GPL-2.0-or-later");
        DebianCopyright.License(tree, "libfoo-bin").ShouldBe("LGPL-2.1-or-later AND GPL-2.0-or-later");
        DebianCopyright.License(tree, "old-style").ShouldBeNull("not machine-readable: dpkg knows no licence");
        DebianCopyright.License(tree, "missing").ShouldBeNull();
    }

    [Fact]
    public void Installed_packages_come_from_dpkg_status_with_their_source_packages()
    {
        using var t = new TempDir();
        t.Write("tree/var/lib/dpkg/status", """
            Package: libc6
            Status: install ok installed
            Architecture: amd64
            Source: glibc
            Version: 2.36-9+deb12u4

            Package: removed-one
            Status: deinstall ok config-files
            Architecture: amd64
            Version: 1.0

            Package: bash
            Status: install ok installed
            Architecture: amd64
            Version: 5.2.15-2+b2
            Source: bash (5.2.15-2)
            Description: GNU Bourne Again SHell
             Bash is an sh-compatible command language interpreter.
            """, executable: false);

        var packages = PackageInventory.Read(t.Combine("tree"));

        packages.ShouldBe([
            new InstalledPackage("bash", "5.2.15-2+b2", "amd64", "bash", "5.2.15-2", null),
            new InstalledPackage("libc6", "2.36-9+deb12u4", "amd64", "glibc", "2.36-9+deb12u4", null),
        ]);
        packages[1].Purl("debian").ShouldBe("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc");
        PackageInventory.Read(t.Combine("no-tree")).ShouldBeEmpty();
    }

    [Fact]
    public void The_SPDX_document_meets_the_schema_requirements_lists_packages_elements_and_image_checksums()
    {
        var content = Sample(
            new InstalledPackage("libc6", "2.36-9", "amd64", "glibc", "2.36-9", "LGPL-2.1-or-later AND LicenseRef-public-domain"),
            new InstalledPackage("g++", "4:12.2.0-3", "amd64", "gcc-defaults", "1.203", null));

        using var spdx = JsonDocument.Parse(Sbom.Spdx(content).ToJsonString());

        SpdxCheck.Problems(spdx.RootElement).ShouldBeEmpty();
        var packages = spdx.RootElement.GetProperty("packages").EnumerateArray().ToList();
        packages.Select(p => p.GetProperty("name").GetString()).ShouldBe(["web", "web", "libc6", "g++", "base", "debian-minimal"]);
        packages[0].GetProperty("checksums")[0].GetProperty("checksumValue").GetString().ShouldBe(new string('a', 64));
        packages[2].GetProperty("licenseDeclared").GetString().ShouldBe("LGPL-2.1-or-later AND LicenseRef-public-domain");
        packages[3].GetProperty("licenseDeclared").GetString().ShouldBe("NOASSERTION");
        spdx.RootElement.GetProperty("creationInfo").GetProperty("created").GetString().ShouldBe("2023-11-14T22:13:20Z");
        Sbom.Spdx(content).ToJsonString().ShouldBe(Sbom.Spdx(content).ToJsonString(), "the same image gives the same document");
    }

    [Fact]
    public void The_structural_check_finds_what_the_schema_would_reject()
    {
        var document = Sbom.Spdx(Sample(new InstalledPackage("libc6", "2.36-9", "amd64", "glibc", "2.36-9", "LicenseRef-odd")));
        document.Remove("dataLicense");
        document.Remove("hasExtractedLicensingInfos");
        ((JsonArray)document["relationships"]!).Add(new JsonObject { ["spdxElementId"] = "SPDXRef-nowhere", ["relationshipType"] = "CONTAINS", ["relatedSpdxElement"] = "SPDXRef-DOCUMENT" });
        using var spdx = JsonDocument.Parse(document.ToJsonString());

        SpdxCheck.Problems(spdx.RootElement).ShouldBe([
            "dataLicense is not CC0-1.0", "LicenseRef-odd is used but not in hasExtractedLicensingInfos", "relationship from an unknown element SPDXRef-nowhere"]);
    }

    [Fact]
    public void The_CycloneDX_document_lists_packages_with_purls_licences_and_the_image_files_hashes()
    {
        using var cdx = JsonDocument.Parse(Sbom.CycloneDx(Sample(new InstalledPackage("libc6", "2.36-9", "amd64", "glibc", "2.36-9", "LGPL-2.1-or-later"))).ToJsonString());

        var root = cdx.RootElement;
        root.GetProperty("bomFormat").GetString().ShouldBe("CycloneDX");
        root.GetProperty("specVersion").GetString().ShouldBe("1.5");
        root.GetProperty("serialNumber").GetString()!.ShouldMatch("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
        var libc = root.GetProperty("components")[0];
        libc.GetProperty("purl").GetString().ShouldBe("pkg:deb/debian/libc6@2.36-9?arch=amd64&upstream=glibc");
        libc.GetProperty("licenses")[0].GetProperty("expression").GetString().ShouldBe("LGPL-2.1-or-later");
        var files = root.GetProperty("metadata").GetProperty("component").GetProperty("components");
        files.EnumerateArray().Select(f => f.GetProperty("name").GetString()).ShouldBe(["web.qcow2", "web.tar"]);
        files[1].GetProperty("hashes")[0].GetProperty("content").GetString().ShouldBe(new string('b', 64));
        root.GetProperty("components").EnumerateArray().Where(c => c.GetProperty("type").GetString() == "data").Select(c => c.GetProperty("name").GetString())
            .ShouldBe(["base", "debian-minimal"]);
    }
}
