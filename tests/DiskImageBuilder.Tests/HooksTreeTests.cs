using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

public sealed class HooksTreeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private HooksTree Merge(RecordingLog log, params string[] elements) =>
        HooksTree.Create(_dir.Combine("hooks"), elements.Select(e => Element.Load(e, _dir.Combine("els", e))), log);

    [Fact]
    public void Phase_folders_merge_and_run_in_C_locale_order()
    {
        _dir.Write("els/a/install.d/50-b", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/10-z", "#!/bin/sh\n");
        _dir.Write("els/b/install.d/50-B", "#!/bin/sh\n");
        _dir.Write("els/b/install.d/50-a", "#!/bin/sh\n");
        _dir.Write("els/b/root.d/01-x", "#!/bin/sh\n");
        var tree = Merge(new RecordingLog(), "a", "b");
        tree.Scripts(Phase.Install).Select(s => s.Name).ShouldBe(["10-z", "50-B", "50-a", "50-b"]);
        tree.Scripts(Phase.Install).Single(s => s.Name == "50-a").ElementName.ShouldBe("b");
        tree.Scripts(Phase.Root).ShouldHaveSingleItem().SourcePath.ShouldBe(_dir.Combine("els/b/root.d/01-x"));
    }

    [Fact]
    public void Same_script_name_in_one_phase_from_two_elements_is_an_error_naming_both_files()
    {
        _dir.Write("els/a/install.d/50-setup", "#!/bin/sh\necho a\n");
        _dir.Write("els/b/install.d/50-setup", "#!/bin/sh\necho b\n");
        var d = Should.Throw<DibException>(() => Merge(new RecordingLog(), "a", "b")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0010");
        d.Message.ShouldContain(_dir.Combine("els/a/install.d/50-setup"));
        d.Message.ShouldContain(_dir.Combine("els/b/install.d/50-setup"));
    }

    [Fact]
    public void Identical_files_do_not_clash_and_metadata_is_not_copied()
    {
        _dir.Write("els/a/static/etc/motd", "hi\n", false);
        _dir.Write("els/b/static/etc/motd", "hi\n", false);
        _dir.Write("els/a/element-deps", "b\n", false);
        _dir.Write("els/b/element-deps", "c\n", false);
        Merge(new RecordingLog(), "a", "b");
        File.ReadAllText(_dir.Combine("hooks/static/etc/motd")).ShouldBe("hi\n");
        File.Exists(_dir.Combine("hooks/element-deps")).ShouldBeFalse();
    }

    [Fact]
    public void Non_executable_scripts_are_skipped_with_a_warning()
    {
        _dir.Write("els/a/install.d/10-run", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/20-data", "not a script\n", executable: false);
        var log = new RecordingLog();
        var tree = Merge(log, "a");
        tree.Scripts(Phase.Install).Select(s => s.Name).ShouldBe(["10-run"]);
        var w = log.Warnings.ShouldHaveSingleItem();
        w.Code.ShouldBe("DIB0011");
        w.Location!.File.ShouldBe(_dir.Combine("els/a/install.d/20-data"));
    }

    [Fact]
    public void Executable_mode_survives_the_copy()
    {
        _dir.Write("els/a/bin/tool", "#!/bin/sh\n");
        Merge(new RecordingLog(), "a");
        HooksTree.IsExecutable(_dir.Combine("hooks/bin/tool")).ShouldBeTrue();
    }
}
