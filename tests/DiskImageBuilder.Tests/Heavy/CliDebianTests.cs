using System.Diagnostics;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The same Debian image from the CLI and from the SDK. Slow (two debootstraps), needs root and the mirror.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class CliDebianTests
{
    [Fact]
    public void Disk_image_create_debian_minimal_has_the_same_files_as_the_SDK_build()
    {
        using var sdk = new ImageProject("""<PropertyGroup><ImageFormat>tar</ImageFormat></PropertyGroup><ItemGroup><Element Include="debian-minimal" /></ItemGroup>""", "debian");
        var clock = Stopwatch.StartNew();
        var sdkRun = sdk.Build();
        var sdkTime = clock.Elapsed;
        sdkRun.Succeeded.ShouldBeTrue(sdkRun.Output);

        using var cli = new TempDir();
        var env = RequestValues.ProcessEnvironment().Where(e => e.Key != "ELEMENTS_PATH").ToDictionary();
        clock.Restart();
        var run = CliHost.Create(env, cli.Path, "-o", "debian", "-t", "tar", "debian-minimal");
        var cliTime = clock.Elapsed;
        run.ExitCode.ShouldBe(0, run.ToString());

        var sdkFiles = TarList(sdk.OutputFile());
        var cliFiles = TarList(cli.Combine("debian.tar"));
        cliFiles.Count.ShouldBeGreaterThan(1000);
        cliFiles.Except(sdkFiles).ShouldBeEmpty("files only in the CLI image");
        sdkFiles.Except(cliFiles).ShouldBeEmpty("files only in the SDK image");
        Console.WriteLine($"SDK build {sdkTime.TotalSeconds:0} s, CLI build {cliTime.TotalSeconds:0} s");
    }

    // Through a file: Sh keeps only the last 10000 lines and a Debian tree has more.
    private static List<string> TarList(string tar)
    {
        ImageProject.Sh($"tar -tf '{tar}' | LC_ALL=C sort > '{tar}.list'");
        return [.. File.ReadAllLines(tar + ".list")];
    }
}
