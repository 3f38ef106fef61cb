using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

[Trait(Tier.Name, Tier.Unit)]
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
        HostFiles.IsExecutable(_dir.Combine("hooks/bin/tool")).ShouldBeTrue();
    }

    [Fact]
    public void A_library_extracted_by_NuGet_gets_the_modes_its_modes_file_records()
    {
        // As NuGet leaves a package's files: every one 0744.
        const UnixFileMode NuGetMode = (UnixFileMode)0b111_100_100;
        foreach (var (path, text) in new[] { ("a/install.d/10-run", "#!/bin/sh\n"), ("a/install.d/20-data", "not a script\n"),
                     ("a/init-scripts/systemd/x.service", "[Unit]\n"), ("a/static/usr/sbin/x", "#!/bin/sh\n") })
        {
            _dir.Write($"els/{path}", text);
            File.SetUnixFileMode(_dir.Combine($"els/{path}"), NuGetMode);
        }

        _dir.Write($"els/{ElementFileModes.FileName}",
            "755 a/install.d/10-run\n644 a/install.d/20-data\n644 a/init-scripts/systemd/x.service\n755 a/static/usr/sbin/x\n", false);
        var log = new RecordingLog();
        var tree = Merge(log, "a");
        tree.Scripts(Phase.Install).Select(s => s.Name).ShouldBe(["10-run"]);
        log.Warnings.ShouldHaveSingleItem().Code.ShouldBe("DIB0011");
        File.GetUnixFileMode(_dir.Combine("hooks/init-scripts/systemd/x.service")).ShouldBe((UnixFileMode)0b110_100_100);
        File.GetUnixFileMode(_dir.Combine("hooks/static/usr/sbin/x")).ShouldBe((UnixFileMode)0b111_101_101);
        File.Exists(_dir.Combine($"hooks/{ElementFileModes.FileName}")).ShouldBeFalse();
    }

    [Fact]
    public void Top_level_files_are_copied_in_element_order_and_the_last_one_wins_with_a_warning()
    {
        _dir.Write("els/a/pkg-map", "{\"a\": 1}\n", false);
        _dir.Write("els/b/pkg-map", "{\"b\": 2}\n", false);
        _dir.Write("els/c/pkg-map", "{\"b\": 2}\n", false);
        var log = new RecordingLog();
        Merge(log, "a", "b", "c");
        File.ReadAllText(_dir.Combine("hooks/pkg-map")).ShouldBe("{\"b\": 2}\n");
        var w = log.Warnings.ShouldHaveSingleItem("identical files are no news; only a to b replaced content");
        w.Code.ShouldBe("DIB0013");
        w.Message.ShouldContain("'a' and 'b'");
    }

    [Fact]
    public void Files_inside_any_folder_still_clash_but_tests_folders_are_not_copied()
    {
        _dir.Write("els/a/bin/tool", "#!/bin/sh\necho a\n");
        _dir.Write("els/b/bin/tool", "#!/bin/sh\necho b\n");
        _dir.Write("els/a/tests/run", "a\n");
        _dir.Write("els/b/tests/run", "b\n");
        var d = Should.Throw<DibException>(() => Merge(new RecordingLog(), "a", "b")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0010");
        d.Message.ShouldContain("bin/tool");
        Directory.Exists(_dir.Combine("hooks/tests")).ShouldBeFalse();
    }

    [Fact]
    public void Scripts_run_in_dib_run_parts_numeric_order_and_only_with_its_names()
    {
        _dir.Write("els/a/install.d/10-ten", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/5-five", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/100-hundred", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/setup", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/20-dotted.sh", "#!/bin/sh\n");
        var log = new RecordingLog();
        var tree = Merge(log, "a");
        tree.Scripts(Phase.Install).Select(s => s.Name).ShouldBe(["setup", "5-five", "10-ten", "100-hundred"]);
        log.Warnings.ShouldHaveSingleItem().Code.ShouldBe("DIB0014");
    }

    [Fact]
    public void Scripts_added_during_the_build_run_in_their_phase_through_relative_links()
    {
        _dir.Write("els/a/install.d/app-source-install/50-app", "#!/bin/sh\n");
        _dir.Write("els/a/install.d/10-first", "#!/bin/sh\n");
        var tree = Merge(new RecordingLog(), "a");
        tree.Scripts(Phase.Install).Select(s => s.Name).ShouldBe(["10-first"], "folders in a phase folder are data");

        // What install-types does in extra-data.d: link the chosen type's scripts into install.d.
        File.CreateSymbolicLink(_dir.Combine("hooks/install.d/50-app"), "app-source-install/50-app");
        var scripts = tree.Scripts(Phase.Install);
        scripts.Select(s => s.Name).ShouldBe(["10-first", "50-app"]);
        scripts[1].ElementName.ShouldBe("(added during the build)");
        scripts[1].Path.ShouldBe(_dir.Combine("hooks/install.d/50-app"));
    }

    [Fact]
    public void A_dangling_link_is_an_error_naming_the_hook_and_its_target()
    {
        Directory.CreateDirectory(_dir.Combine("els/b/root.d"));
        File.CreateSymbolicLink(_dir.Combine("els/b/root.d/20-gone"), "../nowhere/20-gone");
        var shipped = Should.Throw<DibException>(() => Merge(new RecordingLog(), "b")).Diagnostics.ShouldHaveSingleItem();
        shipped.Code.ShouldBe("DIB0028");
        shipped.Location!.File.ShouldBe(_dir.Combine("els/b/root.d/20-gone"));

        _dir.Write("els/a/install.d/10-first", "#!/bin/sh\n");
        var tree = HooksTree.Create(_dir.Combine("hooks-a"), [Element.Load("a", _dir.Combine("els", "a"))], new RecordingLog());
        File.CreateSymbolicLink(_dir.Combine("hooks-a/install.d/30-gone"), "missing/30-gone");
        var d = Should.Throw<DibException>(() => tree.Scripts(Phase.Install)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0028");
        d.Message.ShouldContain("install.d/30-gone");
        d.Message.ShouldContain(_dir.Combine("hooks-a/install.d/missing/30-gone"));
    }

    [Fact]
    public void Environment_files_are_sourced_in_numeric_order_with_dib_names()
    {
        _dir.Write("els/a/environment.d/10-ten.bash", "export A=1\n");
        _dir.Write("els/a/environment.d/9-nine", "export A=2\n");
        _dir.Write("els/b/environment.d/02-two.sh", "export B=1\n");
        _dir.Write("els/b/environment.d/bad name", "export C=1\n");
        var tree = Merge(new RecordingLog(), "a", "b");
        tree.EnvironmentFiles().ShouldBe(["environment.d/02-two.sh", "environment.d/9-nine", "environment.d/10-ten.bash"]);
    }
}
