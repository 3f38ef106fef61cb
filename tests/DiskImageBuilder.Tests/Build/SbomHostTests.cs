using System.Text.Json;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The package inventory against dpkg-query itself, on this Debian host's own package database (a real one, without a Debian build).</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class SbomHostTests
{
    [Fact]
    public void The_SBOM_of_a_Debian_tree_lists_what_dpkg_query_lists_with_licences_where_copyright_files_are_machine_readable()
    {
        var packages = PackageInventory.Read("/");
        var expected = ImageProject.Sh("dpkg-query -W -f '${db:Status-Status} ${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\\n'")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("installed ", StringComparison.Ordinal))
            .Select(l => l["installed ".Length..])
            .Order(StringComparer.Ordinal);

        packages.Count.ShouldBeGreaterThan(100);
        packages.Select(p => $"{p.Name} {p.Version} {p.Architecture} {p.SourceName} {p.SourceVersion}").Order(StringComparer.Ordinal).ShouldBe(expected);
        packages.Single(p => p.Name == "dpkg").License.ShouldNotBeNull().ShouldContain("GPL-2.0-or-later");
        packages.Count(p => p.License is not null).ShouldBeGreaterThan(packages.Count / 2, "most Debian packages have machine-readable copyright files");

        using var spdx = JsonDocument.Parse(Sbom.Spdx(new Sbom.Content("host", ["debian"], packages, "debian", [], DateTimeOffset.UnixEpoch)).ToJsonString());
        SpdxCheck.Problems(spdx.RootElement).ShouldBeEmpty();
    }
}
