using System.Diagnostics;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Out-of-process `dotnet build` of small images on the offline busybox tree. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class BuildTests
{
    [Fact]
    public void Scripts_see_DIB_variables_environment_d_and_the_tree_is_tarred()
    {
        using var p = ImageProject.Busybox(
            """
            <PropertyGroup><DistroRelease>trixie</DistroRelease></PropertyGroup>
            <ItemGroup><ImageEnvironment Include="DIB_FROM_ITEM" Value="item value" /></ItemGroup>
            """,
            """<Element Include="probe" />""");
        p.Environment["DIB_FROM_CALLER"] = "caller value";
        p.Environment["NOT_DIB_SECRET"] = "must not leak";
        p.Write("elements/probe/environment.d/10-probe", "export PROBE_ENV=sourced\n");
        p.Write("elements/probe/install.d/50-probe", """
            #!/bin/sh
            set -eu
            for v in ARCH IMAGE_NAME IMAGE_ELEMENT DIB_RELEASE DIB_FROM_ITEM DIB_FROM_CALLER PROBE_ENV TMP_HOOKS_PATH; do
              eval "echo $v=\${$v:-}"
            done > /etc/probe
            echo "NOT_DIB_SECRET=${NOT_DIB_SECRET:-unset}" >> /etc/probe
            test -x /tmp/in_target.d/install.d/50-probe
            """);
        p.Write("elements/probe/root.d/90-host-side", "#!/bin/sh\necho \"host:$TARGET_ROOT\" > \"$TARGET_ROOT/etc/host-probe\"\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        File.Exists(p.OutputFile()).ShouldBeTrue();
        var tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "etc/probe")).ShouldBe([
            "ARCH=amd64", "IMAGE_NAME=bin/Debug/image", "IMAGE_ELEMENT=busybox-tree probe", "DIB_RELEASE=trixie",
            "DIB_FROM_ITEM=item value", "DIB_FROM_CALLER=caller value", "PROBE_ENV=sourced",
            "TMP_HOOKS_PATH=/tmp/in_target.d", "NOT_DIB_SECRET=unset"]);
        File.ReadAllText(Path.Combine(tree, "etc/host-probe")).ShouldStartWith("host:" + p.Dir);
        Directory.Exists(Path.Combine(tree, "tmp/in_target.d")).ShouldBeFalse("the hooks mount point must not stay in the image");
        Directory.Exists(p.Combine("obj/Debug/dib/work")).ShouldBeFalse("the work directory is removed after the build");
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void A_password_given_by_the_caller_reaches_the_hooks_but_never_obj_in_plain_text_and_changing_it_rebuilds()
    {
        using var p = ImageProject.Busybox(
            """<ItemGroup><ImageEnvironment Include="DIB_ITEM_SECRET" Value="item-secret-5171" /></ItemGroup>""",
            """<Element Include="probe" />""");
        p.Environment["DIB_DEV_USER_PASSWORD"] = "first-password-5171";
        p.Write("elements/probe/install.d/50-probe", "#!/bin/sh\necho \"$DIB_DEV_USER_PASSWORD $DIB_ITEM_SECRET\" > /etc/probe\n");

        var first = p.Build();

        first.Succeeded.ShouldBeTrue(first.Output);
        File.ReadAllText(Path.Combine(p.Extract(), "etc/probe")).ShouldBe("first-password-5171 item-secret-5171\n");
        var request = Directory.EnumerateFiles(p.Combine("obj"), "request.json", SearchOption.AllDirectories).ShouldHaveSingleItem();
        File.GetUnixFileMode(request).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllText(request).ShouldContain("DIB_DEV_USER_PASSWORD");
        foreach (var file in Directory.EnumerateFiles(p.Combine("obj"), "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var secret in new[] { "first-password-5171", "item-secret-5171" })
            {
                bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)).ShouldBe(-1, $"{secret} in {file}");
            }
        }

        p.Build().Ran("CreateImage").ShouldBeFalse("the same password: up to date");

        p.Environment["DIB_DEV_USER_PASSWORD"] = "second-password-5171";
        var second = p.Build();

        second.Succeeded.ShouldBeTrue(second.Output);
        second.Ran("CreateImage").ShouldBeTrue("another password rebuilds");
        File.ReadAllText(Path.Combine(p.Extract(), "etc/probe")).ShouldBe("second-password-5171 item-secret-5171\n");
    }

    [Fact]
    public void Every_chroot_script_gets_its_own_dev_proc_and_sys()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="devices" />""");
        const string Probe = """
            #!/bin/sh
            set -eu
            for n in null zero full random urandom tty; do test -c /dev/$n; done
            test -L /dev/ptmx && test -L /dev/fd && test -L /dev/stdin
            head -c 4 /dev/urandom > /dev/shm/bytes
            test ! -e /dev/shm/left-by-the-first
            touch /dev/shm/left-by-the-first /dev/made-by-a-script
            grep -q " /dev tmpfs " /proc/mounts && grep -q " /dev/pts devpts " /proc/mounts
            grep -q " /dev/shm tmpfs " /proc/mounts && grep -q " /sys sysfs " /proc/mounts
            echo "$0" >> /etc/dev-probe
            """;
        p.Write("elements/devices/install.d/50-first", Probe);
        p.Write("elements/devices/post-install.d/50-second", Probe);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "etc/dev-probe")).ShouldBe(["/tmp/in_target.d/install.d/50-first", "/tmp/in_target.d/post-install.d/50-second"]);
        File.Exists(Path.Combine(tree, "dev/made-by-a-script")).ShouldBeFalse("/dev is a tmpfs of the script's own namespace");
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void Phases_run_in_DIB_order_on_host_or_in_chroot_and_are_timed()
    {
        string[] phases = ["root.d", "extra-data.d", "pre-install.d", "install.d", "post-install.d", "block-device.d", "finalise.d", "cleanup.d"];
        using var p = ImageProject.Busybox(elements: """<Element Include="order" />""");
        foreach (var phase in phases)
        {
            // Inside the chroot the tree is "/"; on the host it is $TARGET_ROOT.
            p.Write($"elements/order/{phase}/50-order", $"#!/bin/sh\necho \"{phase} ${{TARGET_ROOT:-chroot}}\" >> \"${{TARGET_ROOT:-}}/phases\"\n");
        }

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var lines = File.ReadAllLines(Path.Combine(p.Extract(), "phases"));
        lines.Select(l => l.Split(' ')[0]).ShouldBe(phases);
        lines.Where(l => l.EndsWith(" chroot", StringComparison.Ordinal)).Select(l => l.Split(' ')[0])
            .ShouldBe(["pre-install.d", "install.d", "post-install.d", "finalise.d"]);
        foreach (var phase in phases)
        {
            run.Messages.ShouldContain(m => m.StartsWith($"DiskImageBuilder: {phase}: ", StringComparison.Ordinal) && m.EndsWith(" script(s)", StringComparison.Ordinal));
            run.Messages.ShouldContain(m => m.StartsWith($"DiskImageBuilder: {phase} took ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Tar_keeps_owners_modes_xattrs_hard_links_and_device_nodes()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="special" />""");
        p.Write("elements/special/install.d/50-special", """
            #!/bin/sh
            set -eu
            echo secret > /etc/owned
            chown 1234:5678 /etc/owned
            chmod 4750 /etc/owned
            ln /etc/owned /etc/owned-link
            mknod /etc/null-dev c 1 3
            """);
        p.Write("elements/special/post-install.d/60-unused", "#!/bin/sh\n");
        p.Write("elements/special/block-device.d/50-xattr", "#!/bin/sh\nsetfattr -n user.dib -v kept \"$TARGET_ROOT/etc/owned\"\n");
        p.Write("elements/special/host-tools", "setfattr attr\n", false);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        ImageProject.Sh($"stat -c '%u:%g %a %h' '{tree}/etc/owned'").Trim().ShouldBe("1234:5678 4750 2");
        ImageProject.Sh($"stat -c '%i' '{tree}/etc/owned'").ShouldBe(ImageProject.Sh($"stat -c '%i' '{tree}/etc/owned-link'"));
        ImageProject.Sh($"stat -c '%F %t,%T' '{tree}/etc/null-dev'").Trim().ShouldBe("character special file 1,3");
        ImageProject.Sh($"getfattr --absolute-names --only-values -n user.dib '{tree}/etc/owned'").Trim().ShouldBe("kept");
    }

    [Fact]
    public void The_default_verbosity_shows_each_phase_a_long_script_still_running_and_the_image_with_its_size()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="slow" />""");
        p.Write("elements/slow/install.d/50-slow", "#!/bin/sh\necho hidden-at-minimal\nsleep 12\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var console = run.Output.Split('\n').Select(l => l.Trim()).ToList();
        foreach (var phase in new[] { "root.d", "install.d" })
        {
            console.ShouldContain(l => l.StartsWith($"DiskImageBuilder: {phase}: ", StringComparison.Ordinal), phase);
            console.ShouldContain(l => l.StartsWith($"DiskImageBuilder: {phase} took ", StringComparison.Ordinal), phase);
        }

        console.ShouldNotContain(l => l.StartsWith("DiskImageBuilder: cleanup.d took ", StringComparison.Ordinal), "a phase without scripts only says so");
        console.ShouldContain("DiskImageBuilder: install.d/50-slow still running, 10 s");
        console.ShouldContain(l => l.StartsWith("DiskImageBuilder: install.d/50-slow finished after 1", StringComparison.Ordinal));
        console.ShouldNotContain(l => l.Contains("hidden-at-minimal", StringComparison.Ordinal), "script output stays at normal verbosity");
        console.ShouldNotContain(l => l.Contains("root.d/10-busybox-tree still running", StringComparison.Ordinal), "quick scripts get no progress lines");
        console.ShouldContain(l => l.StartsWith("DiskImageBuilder: image built in ", StringComparison.Ordinal)
            && l.EndsWith($": {p.OutputFile()} ({(new FileInfo(p.OutputFile()).Length + (1 << 20) - 1) >> 20} MiB)", StringComparison.Ordinal));

        File.Delete(p.OutputFile());
        var again = p.Build();
        again.Succeeded.ShouldBeTrue(again.Output);
        again.Output.ShouldContain("DiskImageBuilder: every phase restored; only the outputs are written");
    }

    [Fact]
    public void The_binlog_embeds_the_request_and_element_files_and_keeps_step_timings_as_items()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="timed" />""");
        var script = p.Write("elements/timed/install.d/50-timed", "#!/bin/sh\nsleep 1\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        run.Log.SourceFiles.ShouldContain(f => f.FullPath == script && f.Text.Contains("sleep 1", StringComparison.Ordinal));
        run.Log.SourceFiles.ShouldContain(f => f.FullPath == p.Combine("obj/Debug/dib/request.json"));
        var steps = StepTimings(run);
        steps.Select(s => s.Step).ShouldBe(["root.d", "extra-data.d", "pre-install.d", "install.d", "post-install.d", "block-device.d", "finalise.d", "cleanup.d"]);
        steps.ShouldAllBe(s => !s.Restored);
        steps.Single(s => s.Step == "install.d").Seconds.ShouldBeGreaterThanOrEqualTo(1);

        File.Delete(p.OutputFile());
        var again = StepTimings(p.Build());
        again.Count.ShouldBe(8);
        again.ShouldAllBe(s => s.Restored && s.Seconds == 0);
    }

    private static List<(string Step, double Seconds, bool Restored)> StepTimings(BuildRun run) =>
        [.. run.Log.FindChildrenRecursive<Microsoft.Build.Logging.StructuredLogger.Item>(i => i.Parent is Microsoft.Build.Logging.StructuredLogger.NamedNode { Name: "ImageStepTiming" })
            .Select(i =>
            {
                var metadata = i.Children.OfType<Microsoft.Build.Logging.StructuredLogger.Metadata>().ToDictionary(m => m.Name, m => m.Value);
                return (i.Text, double.Parse(metadata["Seconds"], System.Globalization.CultureInfo.InvariantCulture), metadata["Restored"] == "true");
            })];

    [Fact]
    public void A_failing_script_is_an_error_naming_it_with_its_last_lines_and_nothing_is_left_behind()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="broken" />""");
        var script = p.Write("elements/broken/install.d/50-fails", """
            #!/bin/sh
            for i in $(seq 1 30); do echo "output line $i"; done
            sleep 7001 &
            exit 3
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        var error = run.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0040");
        error.File.ShouldBe(script);
        error.Text.ShouldContain("Element 'broken'");
        error.Text.ShouldContain("install.d/50-fails");
        error.Text.ShouldContain("exit code 3");
        error.Text.ShouldContain("output line 30");
        error.Text.ShouldContain("output line 11");
        error.Text.ShouldNotContain("output line 10\n");
        run.Messages.ShouldContain("[install.d/50-fails] output line 1", "the binlog keeps the full output");
        run.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: root.d took", StringComparison.Ordinal));
        p.MountsUnderProject().ShouldBeEmpty();
        Processes.Matching("sleep 7001").ShouldBeEmpty();
        File.Exists(p.OutputFile()).ShouldBeFalse();
        Directory.Exists(p.Combine("obj/Debug/dib/work")).ShouldBeFalse();

        File.WriteAllText(script, "#!/bin/sh\necho fixed\n");
        p.Build().Succeeded.ShouldBeTrue("the next build works");
    }

    [Fact]
    public void Missing_element_in_the_project_points_at_its_line()
    {
        using var p = ImageProject.Busybox(elements: "\n    <Element Include=\"no-such-element\" />");
        var run = p.Build();
        var error = run.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0001");
        error.File.ShouldBe(p.ProjectFile);
        error.LineNumber.ShouldBe(File.ReadAllLines(p.ProjectFile).ToList().FindIndex(l => l.Contains("no-such-element", StringComparison.Ordinal)) + 1);
        error.Text.ShouldContain("'no-such-element'");
    }

    [Fact]
    public void Missing_dependency_points_at_the_element_deps_line()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="needy" />""");
        var deps = p.Write("elements/needy/element-deps", "# first line is a comment\nbusybox-tree\nghost\n", false);
        var error = p.Build().Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0001");
        error.File.ShouldBe(deps);
        error.LineNumber.ShouldBe(3);
        error.Text.ShouldContain("element 'needy'");
    }

    [Fact]
    public void Unknown_format_is_an_error_listing_valid_ones_at_the_property()
    {
        using var p = ImageProject.Busybox("<PropertyGroup>\n    <ImageFormat>tar;floppy</ImageFormat>\n  </PropertyGroup>");
        var error = p.Build().Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0020");
        error.Text.ShouldContain("Valid formats: qcow2, raw, vhd, vmdk, vhdx, vdi, qed, qcow, parallels, tar, tgz, squashfs, docker, oci.");
        error.File.ShouldBe(p.ProjectFile);
        error.LineNumber.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Hook_clash_and_non_executable_scripts_surface_as_coded_diagnostics()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="one" /><Element Include="two" />""");
        p.Write("elements/one/install.d/10-lazy", "not executable\n", executable: false);
        p.Write("elements/one/install.d/50-same", "#!/bin/sh\necho one\n");
        p.Write("elements/two/install.d/50-same", "#!/bin/sh\necho two\n");
        var run = p.Build();
        run.Errors.ShouldHaveSingleItem().Code.ShouldBe("DIB0010");
        run.Warnings.ShouldContain(w => w.Code == "DIB0011" && w.File == p.Combine("elements/one/install.d/10-lazy"));
    }

    [Fact]
    public void Unchanged_project_does_no_image_work_and_inputs_rebuild()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="inc" />""");
        var script = p.Write("elements/inc/install.d/50-inc", "#!/bin/sh\necho one > /etc/inc\n");
        p.Build().Ran("CreateImage").ShouldBeTrue();

        var second = p.Build();
        second.Succeeded.ShouldBeTrue(second.Output);
        second.Ran("CreateImage").ShouldBeFalse("nothing changed");
        p.Build("-question").Succeeded.ShouldBeTrue("dotnet build -question sees everything up to date");

        // A comment in the project file is not an input of the image.
        File.WriteAllText(p.ProjectFile, File.ReadAllText(p.ProjectFile).Replace("<Project>", "<Project>\n  <!-- a comment -->", StringComparison.Ordinal));
        p.Build().Ran("CreateImage").ShouldBeFalse();

        File.SetLastWriteTimeUtc(script, DateTime.UtcNow.AddSeconds(2));
        p.Build().Ran("CreateImage").ShouldBeTrue("an element script changed");

        p.Build("-p:DistroRelease=trixie").Ran("CreateImage").ShouldBeTrue("a property reaching the image changed");
    }

    [Fact]
    public void Adding_deleting_or_renaming_a_hook_or_an_ImageFile_rebuilds_and_question_agrees()
    {
        using var p = ImageProject.Busybox(
            """<ItemGroup><ImageFile Include="files/*.conf" ImagePath="/etc/files/%(Filename)%(Extension)" /></ItemGroup>""",
            """<Element Include="inc" />""");
        var first = p.Write("elements/inc/install.d/50-first", "#!/bin/sh\necho first >> /etc/hooks-ran\n");
        p.Write("files/a.conf", "a\n", false);
        var old = DateTime.UtcNow.AddHours(-1);
        void Age(string file) => File.SetLastWriteTimeUtc(file, old);
        Age(first);
        p.Build().Succeeded.ShouldBeTrue();

        void ShouldRebuildWith(string why, params string[] lines)
        {
            p.Build("-question").Succeeded.ShouldBeFalse($"-question sees the image out of date: {why}");
            var run = p.Build();
            run.Succeeded.ShouldBeTrue(run.Output);
            run.Ran("CreateImage").ShouldBeTrue(why);
            var tree = p.Extract();
            File.ReadAllLines(Path.Combine(tree, "etc/hooks-ran")).ShouldBe(lines, why);
            p.Build("-question").Succeeded.ShouldBeTrue($"up to date again after: {why}");
        }

        // Files with old times: only the list of names tells the image is stale.
        var second = p.Write("elements/inc/install.d/60-second", "#!/bin/sh\necho second >> /etc/hooks-ran\n");
        Age(second);
        ShouldRebuildWith("a hook was added", "first", "second");

        File.Move(second, p.Combine("elements/inc/install.d/40-second"));
        ShouldRebuildWith("a hook was renamed", "second", "first");

        File.Delete(p.Combine("elements/inc/install.d/40-second"));
        ShouldRebuildWith("a hook was deleted", "first");

        File.SetUnixFileMode(first, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        p.Write("elements/inc/install.d/70-always", "#!/bin/sh\ntouch /etc/hooks-ran\n");
        Age(p.Combine("elements/inc/install.d/70-always"));
        p.Build().Succeeded.ShouldBeTrue();
        File.ReadAllText(Path.Combine(p.Extract(), "etc/hooks-ran")).ShouldBeEmpty("a hook that lost its executable bit no longer runs");

        Age(p.Write("files/b.conf", "b\n", false));
        p.Build().Ran("CreateImage").ShouldBeTrue("an ImageFile was added");
        File.ReadAllText(Path.Combine(p.Extract(), "etc/files/b.conf")).ShouldBe("b\n");
        File.Delete(p.Combine("files/b.conf"));
        p.Build().Ran("CreateImage").ShouldBeTrue("an ImageFile was deleted");
        File.Exists(Path.Combine(p.Extract(), "etc/files/b.conf")).ShouldBeFalse();
        p.Build().Ran("CreateImage").ShouldBeFalse("nothing changed");
    }

    [Fact]
    public void NuGet_restores_an_image_project_only_when_it_has_packages_or_imports_from_an_earlier_restore()
    {
        using var p = ImageProject.Busybox();
        var assets = p.Combine("obj/project.assets.json");
        var nugetProps = p.Combine($"obj/{Path.GetFileName(p.ProjectFile)}.nuget.g.props");
        var plain = p.Build();
        plain.Succeeded.ShouldBeTrue(plain.Output);
        plain.RanTask("RestoreTask").ShouldBeFalse("an image project without packages gives NuGet nothing to do");
        File.Exists(assets).ShouldBeFalse();

        // A package reached from the machine's package folder (the test project's own), no network.
        var body = File.ReadAllText(p.ProjectFile);
        var package = """<ItemGroup><PackageReference Include="Microsoft.Build.Locator" Version="1.6.10" /></ItemGroup>""";
        File.WriteAllText(p.ProjectFile, body.Replace("</Project>", package + "\n</Project>", StringComparison.Ordinal));
        var withPackage = p.Build();
        withPackage.Succeeded.ShouldBeTrue(withPackage.Output);
        withPackage.RanTask("RestoreTask").ShouldBeTrue();
        File.ReadAllText(assets).ShouldContain("Microsoft.Build.Locator/1.6.10");
        File.ReadAllText(nugetProps).ShouldContain("Microsoft.Build.Locator.props");

        // Removed again: NuGet runs once more, so the package's build files are no longer imported.
        File.WriteAllText(p.ProjectFile, body);
        p.Build().RanTask("RestoreTask").ShouldBeTrue("the last restore left imports of the removed package");
        File.ReadAllText(nugetProps).ShouldNotContain("Microsoft.Build.Locator");
        var after = p.Build();
        after.Succeeded.ShouldBeTrue(after.Output);
        after.RanTask("RestoreTask").ShouldBeFalse();
    }

    [Fact]
    public void Design_time_builds_do_no_image_work_and_clean_removes_the_image()
    {
        using var p = ImageProject.Busybox();
        var design = p.Build("-p:DesignTimeBuild=true");
        design.Succeeded.ShouldBeTrue(design.Output);
        design.Ran("ResolveImageElements").ShouldBeTrue();
        File.Exists(p.OutputFile()).ShouldBeFalse();

        var build = p.Build();
        build.Succeeded.ShouldBeTrue(build.Output);
        File.Exists(p.OutputFile()).ShouldBeTrue();
        p.Build("-t:Clean").Succeeded.ShouldBeTrue();
        File.Exists(p.OutputFile()).ShouldBeFalse();
    }

    [Fact]
    public void Resolv_conf_works_during_install_and_the_images_own_comes_back()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="dns" />""");
        p.Write("elements/dns/root.d/50-resolv-link", "#!/bin/sh\nln -s ../run/systemd/resolve/stub-resolv.conf \"$TARGET_ROOT/etc/resolv.conf\"\n");
        p.Write("elements/dns/install.d/50-copy", "#!/bin/sh\ncp /etc/resolv.conf /resolv-during-build\n");
        p.Build().Succeeded.ShouldBeTrue();
        var tree = p.Extract();
        new FileInfo(Path.Combine(tree, "etc/resolv.conf")).LinkTarget.ShouldBe("../run/systemd/resolve/stub-resolv.conf");
        File.ReadAllText(Path.Combine(tree, "resolv-during-build")).ShouldBe(File.ReadAllText("/etc/resolv.conf"));
        File.Exists(Path.Combine(tree, "etc/.dib-resolv.conf.orig")).ShouldBeFalse();
    }

    [Fact]
    public void A_folder_with_a_mount_below_it_is_never_deleted_DIB0042()
    {
        using var dir = new TempDir();
        var mount = dir.Combine("work", "root", "proc");
        Directory.CreateDirectory(mount);
        ImageProject.Sh($"mount -t tmpfs dib-test-tmpfs '{mount}'");
        try
        {
            File.WriteAllText(Path.Combine(mount, "kept"), "host data behind a mount");
            Should.Throw<DibException>(() => HostFiles.RemoveTree(dir.Combine("work"))).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0042");
            File.Exists(Path.Combine(mount, "kept")).ShouldBeTrue();
        }
        finally
        {
            ImageProject.Sh($"umount '{mount}'");
        }
    }

    [Fact]
    public void Ctrl_C_cancels_within_10_seconds_and_unwinds()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="slow" />""");
        p.Write("elements/slow/install.d/50-slow", "#!/bin/sh\nsleep 7002 &\nsleep 7003\n");
        var clock = new Stopwatch();
        var run = p.Run(process =>
        {
            // The tree is mounted in the build's own namespace: watch the script's processes instead.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (Processes.Matching("sleep 7003").Count == 0 && DateTime.UtcNow < deadline && !process.HasExited)
            {
                Thread.Sleep(100);
            }

            Processes.Matching("sleep 7003").ShouldNotBeEmpty("the slow script should have started");
            clock.Start();
            ImageProject.Sh($"kill -INT {process.Id}");
            process.WaitForExit(TimeSpan.FromSeconds(30)).ShouldBeTrue();
            clock.Stop();
        });

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        run.Succeeded.ShouldBeFalse();
        run.Errors.ShouldContain(e => e.Code == "DIB0041");
        p.MountsUnderProject().ShouldBeEmpty();
        Processes.Matching("sleep 700").ShouldBeEmpty();
        Directory.Exists(p.Combine("obj/Debug/dib/work")).ShouldBeFalse();
    }
}
