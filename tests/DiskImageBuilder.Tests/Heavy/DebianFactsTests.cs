using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>What DIB's elements may rely on from the Debian operating-system elements. A real Debian tree.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class DebianFactsTests
{
    [Fact]
    public void Debian_minimal_exports_DIBs_distro_facts_and_apt_works_from_pre_install_d_until_the_image_is_sealed()
    {
        using var p = new ImageProject("""
              <PropertyGroup><ImageFormat>tar</ImageFormat></PropertyGroup>
              <ItemGroup><Element Include="debian-minimal" /><Element Include="probe" /></ItemGroup>
            """);
        const string facts = """
            #!/bin/bash
            set -eu
            {
            for v in DISTRO_NAME DIB_INIT_SYSTEM EFI_BOOT_DIR DIB_RELEASE DIB_DEBIAN_COMPONENTS DIB_DEBIAN_COMPONENTS_WS DIB_DISTRIBUTION_MIRROR; do
              echo "$v=${!v}"
            done
            """;
        // The facts on the host (root.d, before any in-image phase) and inside the image.
        p.Write("elements/probe/root.d/90-facts", facts + "\n} > \"$TARGET_ROOT/etc/facts-host\"\n");
        p.Write("elements/probe/install.d/90-facts", facts + "\n} > /etc/facts-image\n");
        // A hook that installs a package itself, as DIB elements do, in the first in-image phase.
        p.Write("elements/probe/pre-install.d/05-apt-itself", """
            #!/bin/bash
            set -eu
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends hello
            """);
        p.Write("elements/probe/finalise.d/99-lists", """
            #!/bin/sh
            set -eu
            ls /var/lib/apt/lists | grep -c '_Packages$' > /etc/package-lists-in-finalise
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        foreach (var file in (string[])["etc/facts-host", "etc/facts-image"])
        {
            var lines = File.ReadAllLines(Path.Combine(tree, file));
            lines.ShouldContain("DISTRO_NAME=debian");
            lines.ShouldContain("DIB_INIT_SYSTEM=systemd");
            lines.ShouldContain("EFI_BOOT_DIR=EFI/debian");
            lines.ShouldContain("DIB_RELEASE=bookworm");
            lines.ShouldContain("DIB_DEBIAN_COMPONENTS=main");
            lines.ShouldContain("DIB_DEBIAN_COMPONENTS_WS=main");
            lines.ShouldContain(l => l.StartsWith("DIB_DISTRIBUTION_MIRROR=http", StringComparison.Ordinal));
        }

        File.Exists(Path.Combine(tree, "usr/bin/hello")).ShouldBeTrue("apt-get install in pre-install.d worked");
        int.Parse(File.ReadAllText(Path.Combine(tree, "etc/package-lists-in-finalise")).Trim(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        Directory.EnumerateFileSystemEntries(Path.Combine(tree, "var/lib/apt/lists")).ShouldBeEmpty("the package lists are not sealed into the image");
        File.ReadAllText(Path.Combine(tree, "etc/default/locale")).ShouldContain("LANG=C.UTF-8");

        // The SBOM beside the image and in /etc/dib-manifests lists what dpkg-query lists in the image.
        var listed = ImageProject.Sh($"dpkg-query --admindir='{tree}/var/lib/dpkg' -W -f '${{db:Status-Status}} ${{Package}} ${{Version}} ${{Architecture}}\\n'")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("installed ", StringComparison.Ordinal)).Select(l => l["installed ".Length..])
            .Order(StringComparer.Ordinal).ToList();
        listed.ShouldContain(l => l.StartsWith("hello ", StringComparison.Ordinal));
        foreach (var sbom in new[] { p.OutputFile("spdx.json"), Path.Combine(tree, "etc/dib-manifests/sbom.spdx.json") })
        {
            using var spdx = System.Text.Json.JsonDocument.Parse(File.ReadAllText(sbom));
            SpdxCheck.Problems(spdx.RootElement).ShouldBeEmpty();
            spdx.RootElement.GetProperty("packages").EnumerateArray()
                .Where(x => x.GetProperty("primaryPackagePurpose").GetString() == "LIBRARY")
                .Select(x => $"{x.GetProperty("name").GetString()} {x.GetProperty("versionInfo").GetString()} {x.GetProperty("attributionTexts")[0].GetString()!["architecture: ".Length..]}")
                .Order(StringComparer.Ordinal).ShouldBe(listed);
        }

        File.ReadAllText(p.OutputFile("cdx.json")).ShouldContain("\"pkg:deb/debian/hello@");
    }
}
