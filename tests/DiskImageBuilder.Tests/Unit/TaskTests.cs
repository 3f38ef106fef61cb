using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The PrepareImage task on its own, with a recording build engine.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class TaskTests
{
    [Fact]
    public void Request_file_is_written_only_when_the_request_changes()
    {
        using var dir = new TempDir();
        var requestFile = dir.Combine("obj/request.json");
        Tasks.PrepareImage Task(string release) => new()
        {
            BuildEngine = new RecordingEngine(),
            ProjectFile = dir.Combine("img.dibproj"),
            ImageName = "img",
            DistroRelease = release,
            SkipBaseElement = "true",
            Elements = [new TaskItem("busybox-tree")],
            ElementsPath = [new TaskItem(Repo.TestElements)],
            OutputDirectory = dir.Combine("bin"),
            WorkDirectory = dir.Combine("work"),
            RequestFile = requestFile,
        };

        var first = Task("bookworm");
        first.Execute().ShouldBeTrue();
        first.ResolvedElements.ShouldHaveSingleItem().GetMetadata("ElementDir").ShouldBe(Path.Combine(Repo.TestElements, "busybox-tree") + "/");
        first.ImageOutputs.ShouldHaveSingleItem().ItemSpec.ShouldBe(dir.Combine("bin/img.qcow2"), "qcow2 is the default, as in DIB");
        first.ElementFiles.ShouldContain(i => i.ItemSpec.EndsWith("root.d/10-busybox-tree", StringComparison.Ordinal));
        var stamp = DateTime.UtcNow.AddHours(-1);
        File.SetLastWriteTimeUtc(requestFile, stamp);

        Task("bookworm").Execute().ShouldBeTrue();
        File.GetLastWriteTimeUtc(requestFile).ShouldBe(stamp);

        Task("trixie").Execute().ShouldBeTrue();
        File.GetLastWriteTimeUtc(requestFile).ShouldBeGreaterThan(stamp);
        BuildRequest.FromJson(File.ReadAllText(requestFile)).DistroRelease.ShouldBe("trixie");
    }

    [Fact]
    public void Bad_architecture_is_a_coded_error_at_the_property_line()
    {
        using var dir = new TempDir();
        var project = dir.Write("img.dibproj", "<Project>\n  <PropertyGroup>\n    <Architecture>z80</Architecture>\n  </PropertyGroup>\n</Project>\n", false);
        var engine = new RecordingEngine();
        new Tasks.PrepareImage
        {
            BuildEngine = engine,
            ProjectFile = project,
            ImageName = "img",
            Architecture = "z80",
            OutputDirectory = dir.Path,
            WorkDirectory = dir.Path,
            RequestFile = dir.Combine("r.json"),
        }.Execute().ShouldBeFalse();
        var e = engine.Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe("DIB0021");
        e.File.ShouldBe(project);
        e.LineNumber.ShouldBe(3);
        e.HelpLink.ShouldBe(new Uri(Path.Combine(Repo.Root, "docs", "errors.md")).AbsoluteUri + "#dib0021", "the error links to its entry in docs/errors.md");
    }

    private sealed class RecordingEngine : IBuildEngine
    {
        public List<BuildErrorEventArgs> Errors { get; } = [];

        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => string.Empty;

        public bool BuildProjectFile(string projectFileName, string[] targetNames, System.Collections.IDictionary globalProperties, System.Collections.IDictionary targetOutputs) => false;

        public void LogCustomEvent(CustomBuildEventArgs e)
        {
        }

        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

        public void LogMessageEvent(BuildMessageEventArgs e)
        {
        }

        public void LogWarningEvent(BuildWarningEventArgs e)
        {
        }
    }
}
