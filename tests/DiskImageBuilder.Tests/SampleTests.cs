using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The samples, as a user builds them: the SDK packed into a private feed, resolved by
/// `Sdk="DiskImageBuilder.Sdk"`, a real Debian tree from the mirror. Slow (a minute or two).
/// </summary>
public sealed class SampleTests
{
    [Fact]
    public void Debian_minimal_sample_builds_a_Debian_tar_through_the_packed_sdk()
    {
        using var dir = new TempDir();
        var feed = dir.Combine("feed");
        ImageProject.Sh($"dotnet pack '{Repo.Root}/sdk/DiskImageBuilder.Sdk.csproj' -c Release -v:q -nologo -p:PackageOutputPath='{feed}'");
        ImageProject.Sh($"cp -a '{Repo.Root}/samples/debian-minimal' '{dir.Path}/'");
        dir.Write("global.json", """{ "msbuild-sdks": { "DiskImageBuilder.Sdk": "0.1.0-dev" } }""", false);
        dir.Write("nuget.config", $"""
            <configuration>
              <packageSources><clear /><add key="feed" value="{feed}" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources>
            </configuration>
            """, false);

        var run = Dotnet.Build(
            dir.Combine("debian-minimal", "debian-minimal.dibproj"),
            dir.Combine("build.binlog"),
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = dir.Combine("packages") },
            null);

        run.Succeeded.ShouldBeTrue(run.Output);
        var tar = dir.Combine("debian-minimal", "bin", "Debug", "debian-minimal.tar");
        var tree = ImageProject.ExtractTar(tar, dir.Combine("tree"));
        File.ReadAllText(Path.Combine(tree, "etc/debian_version")).ShouldStartWith("12.");
        File.ReadAllText(Path.Combine(tree, "etc/hello-marker")).ShouldContain("for image debian-minimal");
        File.Exists(Path.Combine(tree, "usr/bin/less")).ShouldBeTrue("the sample's <Package Include=\"less\"/>");
        File.ReadAllLines(Path.Combine(tree, "etc/dib-manifests/dib_elements")).ShouldBe(["base", "debian-minimal", "hello-marker", "package-installs"], ignoreOrder: true);
        Directory.Exists(Path.Combine(tree, "tmp/in_target.d")).ShouldBeFalse();
        HostFiles.MountsUnder(dir.Path).ShouldBeEmpty();
        run.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: root.d took", StringComparison.Ordinal));
    }
}
