using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The samples, as a user builds them, from a real Debian mirror. Slow (a minute or two).</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class SampleTests
{
    [Fact]
    public void Debian_minimal_sample_builds_a_Debian_tar_through_the_packed_sdk()
    {
        using var sample = new PackedSample("debian-minimal");

        var run = sample.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = ImageProject.ExtractTar(sample.Output("tar"), Path.Combine(sample.Dir, "tree"));
        File.ReadAllText(Path.Combine(tree, "etc/debian_version")).ShouldStartWith("12.");
        File.ReadAllText(Path.Combine(tree, "etc/hello-marker")).ShouldContain("for image debian-minimal");
        File.Exists(Path.Combine(tree, "usr/bin/less")).ShouldBeTrue("the sample's <Package Include=\"less\"/>");
        File.ReadAllLines(Path.Combine(tree, "etc/dib-manifests/dib_elements")).ShouldBe(
            ["base", "debian-minimal", "dib-init-system", "hello-marker", "install-bin", "install-types", "package-installs", "pkg-map"], ignoreOrder: true);
        Directory.Exists(Path.Combine(tree, "tmp/in_target.d")).ShouldBeFalse();
        HostFiles.MountsUnder(sample.Dir).ShouldBeEmpty();
        // Phases run, or come from the snapshots of an earlier build on this machine (same inputs).
        run.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: root.d took", StringComparison.Ordinal)
            || m.StartsWith("DiskImageBuilder: restored root.d", StringComparison.Ordinal));
    }
}
