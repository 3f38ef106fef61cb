using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>What a .NET developer types at an image project: publish, pack, run, and typos. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class DotnetVerbTests
{
    private static int LineOf(ImageProject p, string text) =>
        File.ReadAllLines(p.ProjectFile).ToList().FindIndex(l => l.Contains(text, StringComparison.Ordinal)) + 1;

    [Theory]
    [InlineData("ImageCompress", "ture", "expected true or false")]
    [InlineData("SkipBaseElement", "yes please", "expected true or false")]
    [InlineData("ImageTrace", "1", "expected true or false")]
    [InlineData("DisablePhaseCache", "maybe", "expected true or false")]
    [InlineData("BootMode", "bois", "bios")]
    public void An_invalid_boolean_or_enum_is_DIB0021_at_the_projects_line(string property, string value, string hint)
    {
        using var p = ImageProject.Busybox($"<PropertyGroup>\n    <{property}>{value}</{property}>\n  </PropertyGroup>");

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0021");
        error.File.ShouldBe(p.ProjectFile);
        error.LineNumber.ShouldBe(LineOf(p, $"<{property}>"));
        error.Text.ShouldContain($"'{value}'");
        error.Text.ShouldContain(hint);
    }

    [Theory]
    [InlineData("BootMemory", "lots")]
    [InlineData("BootTimeout", "-5")]
    public void An_invalid_boot_number_is_DIB0021_at_the_projects_line(string property, string value)
    {
        using var p = ImageProject.Busybox($"<PropertyGroup>\n    <{property}>{value}</{property}>\n  </PropertyGroup>");

        var error = p.Build("-t:Boot").Errors.ShouldHaveSingleItem();

        error.Code.ShouldBe("DIB0021");
        error.File.ShouldBe(p.ProjectFile);
        error.LineNumber.ShouldBe(LineOf(p, $"<{property}>"));
        error.Text.ShouldContain($"Invalid {property} '{value}'");
    }

    [Fact]
    public void An_element_name_typo_suggests_the_nearest_name()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="busybox-tere" /><Element Include="no-such-thing-at-all" />""");
        p.Write("elements/busybox-tools/README.md", "a neighbour that is farther away\n", false);

        var errors = p.Build().Errors;

        errors.Count.ShouldBe(2);
        errors.ShouldAllBe(e => e.Code == "DIB0001");
        errors.ShouldContain(e => e.Text.Contains("'busybox-tere'", StringComparison.Ordinal) && e.Text.Contains("Did you mean 'busybox-tree'?", StringComparison.Ordinal));
        errors.ShouldContain(e => e.Text.Contains("'no-such-thing-at-all'", StringComparison.Ordinal) && !e.Text.Contains("Did you mean", StringComparison.Ordinal));
    }

    [Fact]
    public void Publish_copies_the_image_to_PublishDir_and_pack_is_one_DIB_error()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageChecksum>sha256</ImageChecksum></PropertyGroup>");

        var publish = p.Verb("publish", "-c", "Debug");

        publish.Succeeded.ShouldBeTrue(publish.Output);
        var published = p.Combine("bin/Debug/publish/image.tar");
        File.ReadAllBytes(published).ShouldBe(File.ReadAllBytes(p.OutputFile()));
        File.Exists(published + ".sha256").ShouldBeTrue();
        p.Verb("publish", "-c", "Debug", "-p:PublishDir=" + p.Combine("out") + "/").Succeeded.ShouldBeTrue();
        File.Exists(p.Combine("out/image.tar")).ShouldBeTrue();

        var pack = p.Verb("pack", "-c", "Debug");

        pack.Succeeded.ShouldBeFalse();
        var error = pack.Errors.ShouldHaveSingleItem(pack.Output);
        error.Code.ShouldBe("DIB0090");
        error.File.ShouldBe(p.ProjectFile);
        error.Text.ShouldContain("dotnet publish");
        Directory.EnumerateFiles(p.Dir, "*.nupkg", SearchOption.AllDirectories).ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_boots_the_image_as_the_Boot_target_does()
    {
        // A tar has nothing to boot: the Boot target's own error shows `dotnet run` reached it, without a VM.
        using var p = ImageProject.Busybox();
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", ["run", "--project", p.ProjectFile])
        {
            WorkingDirectory = p.Dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // The Locator points these at the SDK for our process; a child dotnet must pick its own.
        foreach (var v in (string[])["MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath"])
        {
            psi.Environment.Remove(v);
        }

        foreach (var (k, v) in p.Environment)
        {
            psi.Environment[k] = v;
        }

        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync() + await stderr;
        await process.WaitForExitAsync();
        var result = (process.ExitCode, TailText: output);

        result.ExitCode.ShouldNotBe(0);
        result.TailText.ShouldContain("error DIB0214: Nothing to boot");
        result.TailText.ShouldNotContain("NETSDK");
        File.Exists(p.OutputFile()).ShouldBeTrue("dotnet run built the image first");
    }
}
