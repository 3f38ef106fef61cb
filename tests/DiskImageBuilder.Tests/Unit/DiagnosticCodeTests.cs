using System.Reflection;
using System.Text.RegularExpressions;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Content;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using DiskImageBuilder.Snapshots;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Every code has one meaning, an entry in docs/errors.md and a test that names it; the codes no other test reaches are raised here.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed partial class DiagnosticCodeTests
{
    private static IReadOnlyList<(string Name, string Code)> Codes() =>
        [.. typeof(DibCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (f.Name, (string)f.GetRawConstantValue()!))];

    [Fact]
    public void Codes_are_unique_and_each_has_an_entry_in_docs_errors_md()
    {
        var codes = Codes();
        codes.Select(c => c.Code).ShouldBeUnique();
        codes.ShouldAllBe(c => CodeFormat().IsMatch(c.Code));
        var documented = DocEntry().Matches(File.ReadAllText(Path.Combine(Repo.Root, "docs", "errors.md"))).Select(m => m.Groups[1].Value).ToList();
        codes.Select(c => c.Code).Except(documented).ShouldBeEmpty("add an entry '## DIBnnnn …' to docs/errors.md: what it means and what to do");
        documented.Except(codes.Select(c => c.Code)).ShouldBeEmpty("docs/errors.md documents a code that DibCodes does not have");
    }

    [Fact]
    public void Every_code_is_named_by_a_test()
    {
        var tests = string.Concat(Directory.EnumerateFiles(Path.Combine(Repo.Root, "tests", "DiskImageBuilder.Tests"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        Codes().Where(c => !Regex.IsMatch(tests, $@"\b{c.Code}\b") && !tests.Contains($"DibCodes.{c.Name}", StringComparison.Ordinal))
            .Select(c => $"{c.Code} {c.Name}")
            .ShouldBeEmpty("write a test that makes the engine raise these");
    }

    // Raised here: codes whose real cause is awkward to stage in a build, each by the engine code that raises it.
    [Fact]
    public void A_failing_tool_is_DIB0100_naming_it_and_its_last_lines()
    {
        var d = Should.Throw<DibException>(() => ProcessRunner.RunChecked(new ProcessSpec("sh", ["-c", "echo last words; exit 3"]), null, CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0100");
        d.Message.ShouldContain("exit code 3");
        d.Message.ShouldContain("last words");
    }

    [Fact]
    public void A_missing_ImageFile_is_DIB0303_at_its_item()
    {
        using var dir = new TempDir();
        var d = Should.Throw<DibException>(() => ImageContent.ImageFile(dir.Combine("gone.conf"), "/etc/gone.conf", null, null, new SourceLocation("image.dibproj", 7)))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0303");
        d.Location.ShouldBe(new SourceLocation("image.dibproj", 7));
    }

    [Fact]
    public void An_app_service_without_one_runtimeconfig_is_DIB0304()
    {
        using var dir = new TempDir();
        dir.Write("publish/lib.dll", "not an app", executable: false);
        var app = new AppSpec("lib", dir.Combine("publish"), "/opt/lib") { ServiceName = "lib" };
        Should.Throw<DibException>(() => ImageContent.ForApp(app)).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0304");
    }

    [Fact]
    public void An_environment_d_file_that_fails_while_the_engine_reads_it_is_DIB0071()
    {
        using var dir = new TempDir();
        var bad = dir.Write("environment.d/10-bad", "export A=1\nfalse\n", executable: false);
        var d = Should.Throw<DibException>(() => ImageEnvironment.Sourced(new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, [bad], dir.Path, CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0071");
        d.Message.ShouldContain("10-bad");
    }

    [Fact]
    public void An_image_cache_that_cannot_hold_snapshots_is_warning_DIB0060_and_no_cache()
    {
        using var dir = new TempDir();
        var notADirectory = dir.Write("cache", "a file where the cache should be", executable: false);
        dir.Write("hooks/install.d/50-x", "#!/bin/sh\n");
        Directory.CreateDirectory(dir.Combine("root"));
        var inputs = BuildInputs.Compute(dir.Combine("hooks"), new Dictionary<string, string>(), ["x"], ["install.d"], ["engine"]);
        var log = new RecordingLog();
        PhaseCache.Open(notADirectory, dir.Combine("root"), dir.Combine("hooks"), inputs, dir.Combine("out.qcow2"), PhaseCache.DefaultMaxBytes, inMemory: false, log).ShouldBeNull();
        log.Warnings.ShouldHaveSingleItem().Code.ShouldBe("DIB0060");
    }

    [Fact]
    public void A_filesystem_tool_that_fails_is_DIB0210_naming_it()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("disk.raw"), []);
        Directory.CreateDirectory(dir.Combine("tree"));
        var d = Should.Throw<DibException>(() => FileSystems.MakeExt4(
            dir.Combine("disk.raw"), 0, dir.Combine("tree"), 64L << 20, "root", Guid.NewGuid(), null, null, "-b 3", new RecordingLog(), CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0210");
        d.Message.ShouldContain("mke2fs");
    }

    [Fact]
    public void An_output_the_archiver_cannot_write_is_DIB0050_and_no_partial_file_stays()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("out"));
        var request = new BuildRequest { ImageName = "image", Elements = [], OutputDirectory = dir.Combine("out"), WorkDirectory = dir.Combine("work") };
        var tar = Output.ImageFormats.Parse(["tar"], null);
        var d = Should.Throw<DibException>(() => Output.Outputs.WriteTreeFormats(request, tar, dir.Combine("no-such-tree"), dir.Combine("work"), new RecordingLog(), CancellationToken.None))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0050");
        Directory.EnumerateFileSystemEntries(dir.Combine("out")).ShouldBeEmpty();
    }

    [GeneratedRegex("^DIB[0-9]{4}$")]
    private static partial Regex CodeFormat();

    [GeneratedRegex(@"^## (DIB[0-9]{4})\b", RegexOptions.Multiline)]
    private static partial Regex DocEntry();
}
