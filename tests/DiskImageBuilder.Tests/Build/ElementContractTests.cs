using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// DIB's element contract as a hook observes it: variables, the $_LIB helpers, dib-run-parts,
/// exported functions, sudo, IMAGE_NAME and the working directory. Real builds of the offline
/// busybox tree (with the host's bash copied in, as DIB's hooks assume bash). Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class ElementContractTests
{
    /// <summary>A folder of scripts for dib-run-parts: names and modes it must run or skip, and one link.</summary>
    private static void WriteRunParts(Action<string, string, bool?> write)
    {
        const string Part = "#!/bin/sh\necho \"${0##*/} ${PARTS_ENV:-not-sourced}\" >> \"${TARGET_ROOT:-}/etc/parts-$WHERE\"\n";
        write("elements/probe/parts.d/10-b", Part, null);
        write("elements/probe/parts.d/2-a", Part, null);
        write("elements/probe/parts.d/abc", Part, null);
        write("elements/probe/parts.d/x.y", Part, true);
        write("elements/probe/parts.d/5-off", Part, false);
        write("elements/probe/environment.d/50-parts", "export PARTS_ENV=sourced\n", false);
    }

    // sort -n: "abc" counts as 0; 3-link is a link to 2-a; x.y (a dot) and 5-off (not executable) are skipped.
    private static readonly string[] PartsOrder = ["abc sourced", "2-a sourced", "3-link sourced", "10-b sourced"];

    [Fact]
    public void Hooks_see_DIBs_variables_lib_helpers_exported_functions_and_dib_run_parts_on_the_host_and_in_the_image()
    {
        using var p = ImageProject.Busybox(
            """<ItemGroup><ImageEnvironment Include="DIB_FROM_ITEM" Value="a &quot;quoted&quot; $value" /></ItemGroup>""",
            """<Element Include="host-bash" /><Element Include="probe" />""");
        p.Write("elements/probe/element-deps", "host-bash\n", false);
        WriteRunParts((path, text, exec) => p.Write(path, text, exec));
        File.CreateSymbolicLink(p.Combine("elements/probe/parts.d/3-link"), "2-a");
        p.Write("elements/probe/root.d/90-host", """
            #!/bin/bash
            set -eu
            set -o pipefail
            eval declare -A elements=($(get_image_element_array))
            {
              echo "TMP_MOUNT_PATH=$([ "$TMP_MOUNT_PATH" = "$TARGET_ROOT" ] && echo TARGET_ROOT)"
              echo "pwd=$PWD"
              echo "IMAGE_NAME=$IMAGE_NAME"
              echo "DIB_ARGS=$DIB_ARGS"
              echo "DIB_OFFLINE=${DIB_OFFLINE-unset}"
              echo "DIB_PYTHON_EXEC=$("$DIB_PYTHON_EXEC" -c 'print("python runs")')"
              echo "ELEMENTS_PATH=$ELEMENTS_PATH"
              echo "die=$(type -t die)"
              echo "probe=${elements[probe]}"
              echo "dib-run-parts=$(command -v dib-run-parts)"
              echo "in-hooks=$([ -x "$TMP_HOOKS_PATH/dib-run-parts" ] && echo yes)"
            } > "$TARGET_ROOT/etc/host-probe"
            printf '%s\n' "$DIB_ENV" > "$TARGET_ROOT/etc/dib-env"
            printf '%s' "$IMAGE_ELEMENT_YAML" > "$TARGET_ROOT/etc/element-yaml"
            WHERE=host dib-run-parts "$TMP_HOOKS_PATH/parts.d"

            # The helper files DIB's elements source from $_LIB, and what they define.
            (
              source "$_LIB/img-defaults"
              source "$_LIB/common-functions"
              source "$_LIB/img-functions"
              source "$_LIB/die"
              echo "functions=$(type -t mount_proc_dev_sys run_in_target select_boot_kernel_initrd unmount_dir tmpfs_check die | tr '\n' ' ')"
              echo "DIB_RUN_PARTS=$([ "$DIB_RUN_PARTS" = "$_LIB/dib-run-parts" ] && [ -x "$DIB_RUN_PARTS" ] && echo ok)"
              echo "defaults=$FS_TYPE $ARCH $DIB_NO_TMPFS"
              boot=$(mktemp -d)
              mkdir "$boot/boot" "$boot/etc"
              touch "$boot/etc/debian_version" "$boot/boot/vmlinuz-5.10.0-9-amd64" "$boot/boot/vmlinuz-6.1.0-13-amd64" "$boot/boot/initrd.img-6.1.0-13-amd64" "$boot/boot/initrd.img-5.10.0-9-amd64"
              select_boot_kernel_initrd "$boot"
              echo "kernel=$KERNEL $RAMDISK $([ "$BOOTDIR" = "$boot/boot" ] && echo BOOTDIR)"
              rm -rf "$boot"
              mount_proc_dev_sys
              run_in_target 'test -c /dev/null && test -d /proc/self && echo "run_in_target $HOME"'
              unmount_image > /dev/null
              echo "mounts-left=$(grep -c " $TMP_MOUNT_PATH/" /proc/mounts || true)"
            ) > "$TARGET_ROOT/etc/lib-probe"
            status=0
            (true; die "died") > "$TARGET_ROOT/etc/die-probe" || status=$?
            echo "status=$status" >> "$TARGET_ROOT/etc/die-probe"
            """);
        p.Write("elements/probe/install.d/50-image", """
            #!/bin/bash
            set -eu
            set -o pipefail
            eval declare -A elements=($(get_image_element_array))
            {
              echo "die=$(type -t die)"
              echo "probe=${elements[probe]}"
              echo "DIB_DEFAULT_INSTALLTYPE=$DIB_DEFAULT_INSTALLTYPE"
              echo "DIB_OFFLINE=${DIB_OFFLINE-unset}"
            } > /etc/image-probe
            WHERE=image /tmp/in_target.d/dib-run-parts /tmp/in_target.d/parts.d
            /tmp/in_target.d/dib-run-parts --list /tmp/in_target.d/parts.d > /etc/parts-list
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        var probeDir = p.Combine("elements", "probe");
        var elementsPath = File.ReadAllLines(Path.Combine(tree, "etc/host-probe")).Single(l => l.StartsWith("ELEMENTS_PATH=", StringComparison.Ordinal))["ELEMENTS_PATH=".Length..];
        elementsPath.Split(':').Select(d => d.TrimEnd('/')).ShouldBe([Repo.TestElements, p.Combine("elements"), Repo.Elements]);
        File.ReadAllLines(Path.Combine(tree, "etc/host-probe")).Where(l => !l.StartsWith("ELEMENTS_PATH=", StringComparison.Ordinal)).ShouldBe([
            "TMP_MOUNT_PATH=TARGET_ROOT",
            $"pwd={p.Dir}",
            "IMAGE_NAME=bin/Debug/image",
            "DIB_ARGS=-a amd64 -o bin/Debug/image -t tar -n busybox-tree host-bash probe",
            "DIB_OFFLINE=",
            "DIB_PYTHON_EXEC=python runs",
            "die=function",
            $"probe={probeDir}",
            $"dib-run-parts={p.Combine("obj/Debug/dib/work/lib/bin/dib-run-parts")}",
            "in-hooks=yes"]);
        File.ReadAllText(Path.Combine(tree, "etc/dib-env")).ShouldContain("declare -x DIB_FROM_ITEM=\"a \\\"quoted\\\" \\$value\"\n");
        File.ReadAllText(Path.Combine(tree, "etc/element-yaml")).ShouldBe(
            $"busybox-tree: {Repo.TestElements}/busybox-tree\nhost-bash: {Repo.TestElements}/host-bash\nprobe: {probeDir}\n");
        File.ReadAllLines(Path.Combine(tree, "etc/lib-probe")).ShouldBe([
            "functions=function function function function function function ",
            "DIB_RUN_PARTS=ok",
            "defaults=ext4 amd64 0",
            "kernel=vmlinuz-6.1.0-13-amd64 initrd.img-6.1.0-13-amd64 BOOTDIR",
            "run_in_target /root",
            "mounts-left=0"]);
        File.ReadAllLines(Path.Combine(tree, "etc/die-probe")).ShouldBe(["died", "status=1"]);
        File.ReadAllLines(Path.Combine(tree, "etc/parts-host")).ShouldBe(PartsOrder);
        File.ReadAllLines(Path.Combine(tree, "etc/parts-image")).ShouldBe(PartsOrder);
        File.ReadAllLines(Path.Combine(tree, "etc/parts-list")).ShouldBe(new[] { "abc", "2-a", "3-link", "10-b" }.Select(n => "/tmp/in_target.d/parts.d/" + n));
        File.ReadAllLines(Path.Combine(tree, "etc/image-probe")).ShouldBe([
            "die=function", $"probe={probeDir}", "DIB_DEFAULT_INSTALLTYPE=source", "DIB_OFFLINE="]);
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void Sudo_in_host_hooks_passes_through_with_its_common_flags_and_names_what_it_cannot_do()
    {
        using var p = ImageProject.Busybox(
            """<ItemGroup><ImageEnvironment Include="DIB_FROM_ITEM" Value="kept" /></ItemGroup>""",
            """<Element Include="sudoer" />""");
        p.Write("elements/sudoer/root.d/90-sudo", """
            #!/bin/bash
            set -eu
            set -o pipefail
            out=$TARGET_ROOT/etc/sudo-probe
            sudo -E sh -c 'echo "E $DIB_FROM_ITEM"' > "$out"
            HOME=/elsewhere sudo -H -u root -- sh -c 'echo "H $HOME $(id -u)"' >> "$out"
            sudo SUDO_VAR=assigned sh -c 'echo "assign $SUDO_VAR"' >> "$out"
            sudo -u nobody id -un >> "$out"
            sudo mkdir -p "$TARGET_ROOT/made-by-sudo"
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "etc/sudo-probe")).ShouldBe(["E kept", "H /root 0", "assign assigned", "nobody"]);
        Directory.Exists(Path.Combine(tree, "made-by-sudo")).ShouldBeTrue();

        p.Write("elements/sudoer/root.d/95-unsupported", "#!/bin/bash\nsudo -i true\n");
        var failed = p.Build();

        failed.Succeeded.ShouldBeFalse();
        var error = failed.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0040");
        error.Text.ShouldContain("root.d/95-unsupported");
        error.Text.ShouldContain("option '-i' is not supported");
    }

    [Fact]
    public void Files_hooks_write_beside_IMAGE_NAME_are_outputs_that_clean_removes()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="beside" />""");
        p.Write("elements/beside/cleanup.d/90-beside", """
            #!/bin/bash
            set -eu
            mkdir -p "$IMAGE_NAME.d"
            echo manifest > "$IMAGE_NAME.d/dib-manifest"
            echo kernel > "$IMAGE_NAME.vmlinuz"
            """);
        var manifest = p.Combine("bin/Debug/image.d/dib-manifest");
        var kernel = p.Combine("bin/Debug/image.vmlinuz");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        File.ReadAllText(manifest).ShouldBe("manifest\n");
        File.ReadAllText(kernel).ShouldBe("kernel\n");

        // A build with nothing to do keeps them (they stay outputs), clean removes them with the image.
        var again = p.Build();
        again.Succeeded.ShouldBeTrue(again.Output);
        again.Ran("CreateImage").ShouldBeFalse();
        File.Exists(manifest).ShouldBeTrue();
        File.Exists(kernel).ShouldBeTrue();

        var clean = p.Build("-t:Clean");

        clean.Succeeded.ShouldBeTrue(clean.Output);
        File.Exists(p.OutputFile()).ShouldBeFalse();
        File.Exists(manifest).ShouldBeFalse();
        File.Exists(kernel).ShouldBeFalse();

        // Built again from the phase snapshots (cleanup.d does not run): the files come back with them.
        var restored = p.Build();
        restored.Succeeded.ShouldBeTrue(restored.Output);
        restored.Messages.ShouldContain(m => m.Contains("restored root.d", StringComparison.Ordinal) && m.Contains("cleanup.d", StringComparison.Ordinal), restored.Output);
        File.ReadAllText(manifest).ShouldBe("manifest\n");
        File.ReadAllText(kernel).ShouldBe("kernel\n");
    }

    [Fact]
    public void A_tree_without_a_shell_builds_when_no_hook_runs_inside_it_and_names_the_hook_when_one_does()
    {
        // What DIB's fake-os test element is: a tree with files and no /bin/sh.
        using var p = ImageProject.Busybox(elements: "");
        p.WriteProject($"""
              <PropertyGroup>
                <ElementsPath>{p.Combine("elements")}</ElementsPath>
                <SkipBaseElement>true</SkipBaseElement>
                <ImageFormat>tar</ImageFormat>
              </PropertyGroup>
              <ItemGroup><Element Include="fake-os" /></ItemGroup>
            """);
        p.Write("elements/fake-os/element-provides", "operating-system\n", false);
        p.Write("elements/fake-os/root.d/10-fake", "#!/bin/sh\nmkdir -p \"$TARGET_ROOT/etc\"\necho fake > \"$TARGET_ROOT/etc/fake-os\"\n");
        p.Write("elements/fake-os/cleanup.d/10-host", "#!/bin/sh\necho cleaned > \"$TARGET_ROOT/etc/cleaned\"\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllText(Path.Combine(tree, "etc/fake-os")).ShouldBe("fake\n");
        File.ReadAllText(Path.Combine(tree, "etc/cleaned")).ShouldBe("cleaned\n");

        p.Write("elements/fake-os/post-install.d/10-inside", "#!/bin/sh\ntrue\n");
        var failed = p.Build();

        failed.Succeeded.ShouldBeFalse();
        var error = failed.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0043");
        error.Text.ShouldContain("post-install.d/10-inside");
        error.Text.ShouldContain("'fake-os'");
    }

    [Fact]
    public void An_environment_d_file_that_fails_while_sourced_is_named_with_its_element_and_the_hook_it_was_for()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="facts" /><Element Include="user" />""");
        // As DIB's dib-init-system does without DIB_INIT_SYSTEM: a message, then exit.
        p.Write("elements/facts/environment.d/10-facts", "if [ -z \"${DIB_NEEDED:-}\" ]; then echo 'DIB_NEEDED is not set'; exit 1; fi\n", false);
        p.Write("elements/user/root.d/50-user", "#!/bin/sh\ntrue\n");

        var onHost = p.Build();

        onHost.Succeeded.ShouldBeFalse();
        var error = onHost.Errors.ShouldHaveSingleItem(onHost.Output);
        error.Code.ShouldBe("DIB0008");
        error.Text.ShouldContain("Element 'facts': environment.d/10-facts failed with exit code 1 while it was sourced for root.d/10-busybox-tree");
        error.Text.ShouldContain("DIB_NEEDED is not set");
        error.File.ShouldBe(p.Combine("elements/facts/environment.d/10-facts"));

        // Inside the image (the file fails only there).
        p.Write("elements/facts/environment.d/10-facts", "[ -n \"${TARGET_ROOT:-}\" ] || return 3\n", false);
        p.Write("elements/user/install.d/50-inside", "#!/bin/sh\ntrue\n");
        var inImage = p.Build();

        inImage.Succeeded.ShouldBeFalse();
        var inside = inImage.Errors.ShouldHaveSingleItem(inImage.Output);
        inside.Code.ShouldBe("DIB0008");
        inside.Text.ShouldContain("Element 'facts': environment.d/10-facts failed with exit code 1 while it was sourced for install.d/50-inside (element 'user')");
    }

    [Fact]
    public void Disk_image_create_gives_hooks_DIBs_IMAGE_NAME_arguments_working_directory_and_install_type()
    {
        using var t = new TempDir();
        t.Write("elements/probe/root.d/90-probe", """
            #!/bin/bash
            set -eu
            printf '%s\n' "pwd=$PWD" "IMAGE_NAME=$IMAGE_NAME" "DIB_ARGS=$DIB_ARGS" "DIB_OFFLINE=$DIB_OFFLINE" > "$TARGET_ROOT/etc/cli-probe"
            echo beside > "$IMAGE_NAME.notes"
            """);
        t.Write("elements/probe/install.d/50-type", "#!/bin/sh\necho \"$DIB_DEFAULT_INSTALLTYPE\" > /etc/install-type\n");
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = $"{Repo.TestElements}:{t.Combine("elements")}", ["DIB_IMAGE_CACHE"] = t.Combine("cache") };
        Directory.CreateDirectory(t.Combine("out"));

        var run = CliHost.Create(env, t.Path, "-n", "-t", "tar", "-o", "out/web.tar", "--offline", "--install-type", "package", "busybox-tree", "probe");

        run.ExitCode.ShouldBe(0, run.ToString());
        var tree = ImageProject.ExtractTar(t.Combine("out", "web.tar"), t.Combine("tree"));
        File.ReadAllLines(Path.Combine(tree, "etc/cli-probe")).ShouldBe([
            $"pwd={t.Path}",
            "IMAGE_NAME=out/web",
            "DIB_ARGS=-n -t tar -o out/web.tar --offline --install-type package busybox-tree probe",
            "DIB_OFFLINE=1"]);
        File.ReadAllText(Path.Combine(tree, "etc/install-type")).ShouldBe("package\n");
        File.ReadAllText(t.Combine("out", "web.notes")).ShouldBe("beside\n");
    }
}
