using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Fault injection: signals and kills at a running hook, from outside, as a terminal, a CI runner
/// or an IDE sends them. Each case checks what the build left: exit code, DIB0041, processes,
/// mounts, loop devices, the work directory, partial outputs, the previous image, the next build.
/// </summary>
[Collection("Heavy")]
[Trait("Category", "Faults")]
[Trait(Tier.Name, Tier.Build)]
public sealed class FaultTests
{
    /// <summary>An install.d hook (inside the image, with its mounts) that hangs while DIB_FAULT_HANG is set.</summary>
    private static ImageProject HangingProject(string marker)
    {
        var p = ImageProject.Busybox(elements: """<Element Include="fault" />""");
        p.Write("elements/fault/install.d/50-hang", $"#!/bin/sh\nif [ -n \"${{DIB_FAULT_HANG:-}}\" ]; then sleep {marker}1 & sleep {marker}2; fi\necho built > /fault-built\n");
        return p;
    }

    [Theory]
    [InlineData("TERM", false)]
    [InlineData("TERM", true)]
    [InlineData("INT", false)]
    [InlineData("INT", true)]
    [InlineData("HUP", false)]
    [InlineData("HUP", true)]
    public void A_signal_to_dotnet_build_or_its_process_group_cancels_with_DIB0041_and_leaves_nothing(string signal, bool toGroup)
    {
        var marker = $"70{(toGroup ? 2 : 1)}{Array.IndexOf(["TERM", "INT", "HUP"], signal)}";
        using var p = HangingProject(marker);
        var first = p.Build();
        first.Succeeded.ShouldBeTrue(first.Output);
        var previous = Fingerprint(p.OutputFile());

        p.Environment["DIB_FAULT_HANG"] = "1";
        var run = Signalled.Build(p, $"sleep {marker}2", signal, toGroup);

        run.ExitCode.ShouldNotBe(0, run.ToString());
        run.Output.ShouldContain("error DIB0041", Case.Sensitive, run.ToString());
        run.Output.ShouldContain($"cancelled by SIG{signal}", Case.Sensitive, run.ToString());
        LastError(run.Output).ShouldContain("DIB0041", Case.Sensitive, "a cancellation is not reported as the failure of something else");
        Leaks.Of(p, run).ShouldBeEmpty();
        Fingerprint(p.OutputFile()).ShouldBe(previous, "the previous image is left as it was");

        p.Environment.Remove("DIB_FAULT_HANG");
        var next = p.Build();
        next.Succeeded.ShouldBeTrue(next.Output);
        next.Ran("CreateImage").ShouldBeTrue();
    }

    /// <summary>
    /// SIGTERM while the install.d snapshot is saved: the hook has written a large file (whose
    /// content the save hashes) and a ready mark after it, and has ended; the layer is not committed yet.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SIGTERM_while_a_phase_snapshot_is_saved_cancels_with_DIB0041_and_leaves_nothing(bool toGroup)
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="fault" />""");
        p.Write("elements/fault/install.d/50-big", """
            #!/bin/sh
            if [ -n "${DIB_FAULT_BIG:-}" ]; then dd if=/dev/zero of=/fault-big bs=1M count=1536 2>/dev/null; fi
            echo built > /fault-ready
            """);
        var first = p.Build();
        first.Succeeded.ShouldBeTrue(first.Output);
        var previous = Fingerprint(p.OutputFile());

        p.Environment["DIB_FAULT_BIG"] = "1";
        var layers = p.Combine("cache", "phases", "layers");
        var staging = p.Combine("cache", "phases", "staging");
        bool Saving() =>
            Directory.EnumerateFiles(staging, "fault-big", SearchOption.AllDirectories).Any()
            && Directory.EnumerateFiles(staging, "fault-ready", SearchOption.AllDirectories).Any()
            && !Directory.EnumerateFiles(layers, "fault-big", SearchOption.AllDirectories).Any()
            && !Tree.Descendants(Environment.ProcessId).Any(d => d.Command.Contains("install.d/50-big", StringComparison.Ordinal));
        var run = Signalled.Build(p, Saving, "TERM", toGroup);

        AssertCancelled(p, run, "TERM", previous);
        Directory.EnumerateFileSystemEntries(staging).ShouldBeEmpty("the build's staging folder goes with it");
    }

    /// <summary>SIGTERM while the disk stage writes the qcow2 (its .partial file has appeared).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SIGTERM_during_the_disk_stage_cancels_with_DIB0041_and_leaves_nothing(bool toGroup)
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageFormat>qcow2</ImageFormat></PropertyGroup>", """<Element Include="host-grub" /><Element Include="fault" />""");
        // Random data compresses slowly: the qcow2 takes seconds to write.
        p.Write("elements/fault/install.d/50-big", """
            #!/bin/sh
            if [ -n "${DIB_FAULT_BIG:-}" ]; then dd if=/dev/urandom of=/fault-big bs=1M count=400 2>/dev/null; fi
            """);
        var first = p.Build();
        first.Succeeded.ShouldBeTrue(first.Output);
        var output = p.OutputFile("qcow2");
        var previous = Fingerprint(output);

        p.Environment["DIB_FAULT_BIG"] = "1";
        var partial = output + ".partial";
        var run = Signalled.Build(p, () => File.Exists(partial) && new FileInfo(partial).Length > 0, "TERM", toGroup);

        AssertCancelled(p, run, "TERM", previous, "qcow2");
    }

    [Fact]
    public void Only_dotnet_killed_with_SIGKILL_takes_every_hook_process_with_it_also_a_PID_1_that_ignores_SIGTERM()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="fault" />""");

        // exec: the long command becomes PID 1 of the hook's PID namespace, where SIGTERM is ignored.
        p.Write("elements/fault/install.d/50-hang", "#!/bin/sh\nsleep 7031 &\nexec sleep 7032\n");
        var run = Signalled.Build(p, "sleep 7032", "KILL", toGroup: false);

        run.ExitCode.ShouldBe(137);
        Leaks.Processes(run).ShouldBeEmpty("every process the build started dies with dotnet (parent-death signal)");
        Leaks.Mounts(p).ShouldBeEmpty();

        File.Delete(p.Combine("elements/fault/install.d/50-hang"));
        var next = p.Build();
        next.Succeeded.ShouldBeTrue(next.Output);
        Directory.Exists(p.Combine("obj/Debug/dib/work")).ShouldBeFalse();
    }

    [Fact]
    public void A_host_side_hook_dies_with_dotnet_too()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="fault" />""");
        p.Write("elements/fault/extra-data.d/50-hang", "#!/bin/bash\nsleep 7041 &\nsleep 7042\n");
        var run = Signalled.Build(p, "sleep 7042", "KILL", toGroup: false);

        run.ExitCode.ShouldBe(137);
        Leaks.Processes(run).ShouldBeEmpty();
    }

    [Fact]
    public void SIGTERM_to_the_cli_cancels_with_DIB0041_and_a_non_zero_exit()
    {
        using var p = HangingProject("705");
        var cli = Path.Combine(Repo.Root, "artifacts", "bin", "DiskImageBuilder.Cli", "debug", "DiskImageBuilder.Cli");
        File.Exists(cli).ShouldBeTrue(cli);
        var psi = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = p.Dir,
        };
        foreach (var a in (string[])[cli, "-n", "-t", "tar", "-o", "out/image", "busybox-tree", "fault"])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ELEMENTS_PATH"] = $"{Repo.TestElements}:{p.Combine("elements")}";
        psi.Environment["DIB_IMAGE_CACHE"] = p.Combine("cache");
        psi.Environment["DIB_FAULT_HANG"] = "1";
        var run = Signalled.Run(psi, "sleep 7052", "TERM", toGroup: true);

        run.ExitCode.ShouldNotBe(0, run.ToString());
        LastError(run.Output).ShouldContain("DIB0041", Case.Sensitive, run.ToString());
        run.Output.ShouldContain("cancelled by SIGTERM", Case.Sensitive, run.ToString());
        Leaks.Processes(run).ShouldBeEmpty();
        Leaks.Mounts(p).ShouldBeEmpty();
        (Directory.Exists(p.Combine("out")) ? Directory.EnumerateFiles(p.Combine("out")) : []).ShouldBeEmpty("no partial output");
    }

    [Fact]
    public void A_second_build_of_the_same_image_waits_for_the_first_or_fails_at_once_with_ImageLockTimeout_0()
    {
        using var p = HangingProject("706");
        p.Build().Succeeded.ShouldBeTrue();
        var hanging = new Dictionary<string, string>(p.Environment) { ["DIB_FAULT_HANG"] = "1" };
        using var first = Process.Start(Dotnet.StartInfo(p.ProjectFile, hanging, ["-nr:false", "-tl:off", "-v:m"], ownSession: true))!;
        try
        {
            SpinWait.SpinUntil(() => Tree.Descendants(first.Id).Any(d => d.Command.Contains("sleep 7062", StringComparison.Ordinal)), TimeSpan.FromMinutes(3)).ShouldBeTrue();

            var refused = p.Build("-p:ImageLockTimeout=0");
            refused.Succeeded.ShouldBeFalse();
            refused.Errors.Select(e => e.Code).ShouldBe(["DIB0045"], refused.Output);
            refused.Errors[0].Text.ShouldContain($"process {first.Id}");
            Tree.Descendants(first.Id).ShouldContain(d => d.Command.Contains("sleep 7062", StringComparison.Ordinal), "the first build goes on undisturbed");

            // The second build waits (and says so) until the first ends: here, cancelled.
            var output = new StringBuilder();
            using var second = new Process { StartInfo = Dotnet.StartInfo(p.ProjectFile, p.Environment, ["-nr:false", "-tl:off", "-v:m"], ownSession: true) };
            second.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            second.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            second.Start();
            second.BeginOutputReadLine();
            second.BeginErrorReadLine();
            string Said() { lock (output) { return output.ToString(); } }
            SpinWait.SpinUntil(() => second.HasExited || Said().Contains("DiskImageBuilder: waiting for another build of ", StringComparison.Ordinal), TimeSpan.FromMinutes(3))
                .ShouldBeTrue();
            second.HasExited.ShouldBeFalse(Said());
            ImageProject.Sh($"kill -TERM {first.Id}");
            second.WaitForExit(TimeSpan.FromMinutes(3)).ShouldBeTrue(Said());
            second.WaitForExit();
            second.ExitCode.ShouldBe(0, Said());
            first.WaitForExit(TimeSpan.FromMinutes(1)).ShouldBeTrue();
            first.ExitCode.ShouldNotBe(0);
            Leaks.Mounts(p).ShouldBeEmpty();
            File.ReadAllText(Path.Combine(p.Extract(), "fault-built")).ShouldBe("built\n");
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public void ImageLockTimeout_that_is_not_a_number_is_DIB0021()
    {
        using var p = ImageProject.Busybox();
        var run = p.Build("-p:ImageLockTimeout=soon");
        run.Succeeded.ShouldBeFalse();
        run.Errors.ShouldContain(e => e.Code == "DIB0021" && e.Text.Contains("ImageLockTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void A_snapshot_file_changed_in_place_without_a_size_change_is_caught_and_its_phase_runs_again()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="fault" />""");
        p.Write("elements/fault/install.d/50-write", "#!/bin/sh\necho original-content > /fault-file\n");
        p.Build().Succeeded.ShouldBeTrue();
        var changed = Directory.EnumerateFiles(p.Combine("cache", "phases", "layers"), "fault-file", SearchOption.AllDirectories).ShouldHaveSingleItem();
        var (time, size) = (File.GetLastWriteTimeUtc(changed), new FileInfo(changed).Length);
        File.WriteAllText(changed, "damaged-content!\n");
        File.SetLastWriteTimeUtc(changed, time);
        new FileInfo(changed).Length.ShouldBe(size);

        var again = p.Build("-t:Rebuild");

        again.Succeeded.ShouldBeTrue(again.Output);
        again.Warnings.ShouldContain(w => w.Code == "DIB0061" && w.Text.Contains("content of its files differs", StringComparison.Ordinal), again.Output);
        File.ReadAllText(Path.Combine(p.Extract(), "fault-file")).ShouldBe("original-content\n");
    }

    [Fact]
    public void An_image_hook_cannot_write_host_sysctls_set_the_host_name_or_get_module_loading_or_clock_capabilities()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="probe" />""");
        p.Write("elements/probe/install.d/50-probe", """
            #!/bin/sh
            if echo 1 > /proc/sys/vm/drop_caches 2>/dev/null; then echo sysctl=written; else echo sysctl=refused; fi
            hostname dib-probe-host && echo "hostname=$(hostname)"
            grep CapBnd /proc/self/status
            """);
        var hostName = File.ReadAllText("/proc/sys/kernel/hostname");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        string Said(string key) => run.Messages.Single(m => m.Contains($"] {key}", StringComparison.Ordinal)).Split("] ")[1];
        Said("sysctl=").ShouldBe("sysctl=refused");
        Said("hostname=").ShouldBe("hostname=dib-probe-host", "the script has a host name of its own");
        File.ReadAllText("/proc/sys/kernel/hostname").ShouldBe(hostName, "the host's name is untouched");
        var bounding = Convert.ToUInt64(Said("CapBnd:").Split('\t', ' ').Last(), 16);
        foreach (var (cap, bit) in new[] { ("CAP_SYS_MODULE", 16), ("CAP_SYS_RAWIO", 17), ("CAP_SYS_BOOT", 22), ("CAP_SYS_TIME", 25) })
        {
            (bounding & (1UL << bit)).ShouldBe(0UL, cap);
        }

        foreach (var (cap, bit) in new[] { ("CAP_CHOWN", 0), ("CAP_DAC_OVERRIDE", 1), ("CAP_SETUID", 7), ("CAP_SYS_CHROOT", 18), ("CAP_SYS_ADMIN", 21), ("CAP_MKNOD", 27) })
        {
            (bounding & (1UL << bit)).ShouldNotBe(0UL, $"{cap}: package installs need it");
        }
    }

    [Fact]
    public void The_double_chroot_escape_and_sysctl_writes_from_install_d_reach_nothing_of_the_host()
    {
        var marker = $"/tmp/dib-escape-{Guid.NewGuid():N}";
        using var p = ImageProject.Busybox(elements: """<Element Include="probe" />""");
        p.Environment["DIB_DEV_PROBE_MARKER"] = marker;

        // Busybox's chroot always changes into the new root; perl's does not, as the escape needs.
        p.Write("elements/probe/root.d/60-perl", """
            #!/bin/bash
            set -eu -o pipefail
            for f in /usr/bin/perl $(ldd /usr/bin/perl | grep -o '/[^ ]*'); do
              mkdir -p "$TARGET_ROOT$(dirname "$f")"
              cp -L "$f" "$TARGET_ROOT$f"
            done
            """);
        var swappiness = File.ReadAllText("/proc/sys/vm/swappiness").Trim();
        var other = swappiness == "17" ? "18" : "17";
        p.Write("elements/probe/install.d/50-escape", $$"""
            #!/bin/sh
            LC_ALL=C perl -e 'mkdir "/jail"; chroot "/jail" or die "chroot: $!"; chdir ".." for 1 .. 64; chroot "." or die "chroot .: $!";
              open(my $f, ">", $ENV{DIB_DEV_PROBE_MARKER}) or die "open: $!"; print $f "escaped\n"; close $f;
              opendir(my $d, "/"); print "escape-root: ", join(" ", sort grep { !/^[.]/ } readdir $d), "\n"'
            if echo {{other}} > /proc/sys/vm/swappiness; then echo sysctl-echo=written; else echo sysctl-echo=refused; fi
            if sysctl -w vm.swappiness={{other}}; then echo sysctl-w=written; else echo sysctl-w=refused; fi
            """);

        try
        {
            var run = p.Build();

            run.Succeeded.ShouldBeTrue(run.Output);
            string Said(string key) => run.Messages.Single(m => m.Contains($"] {key}", StringComparison.Ordinal)).Split("] ")[1];
            File.Exists(marker).ShouldBeFalse("the escape wrote on the host");
            var image = p.Extract();
            File.ReadAllText(image + marker).ShouldBe("escaped\n", "the escape ran, chroot and all, and found only the image");
            var top = Directory.EnumerateFileSystemEntries(image).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Said("escape-root:").ShouldBe($"escape-root: {string.Join(' ', top)}", "what the escape sees as / is the image's root");
            Said("sysctl-echo=").ShouldBe("sysctl-echo=refused");
            Said("sysctl-w=").ShouldBe("sysctl-w=refused");
            File.ReadAllText("/proc/sys/vm/swappiness").Trim().ShouldBe(swappiness);
        }
        finally
        {
            File.Delete(marker);
            File.WriteAllText("/proc/sys/vm/swappiness", swappiness);
        }
    }

    /// <summary>What every cancelled build must leave: a non-zero exit, DIB0041 last, nothing behind, the previous image as it was, a next build that works.</summary>
    private static void AssertCancelled(ImageProject p, SignalledRun run, string signal, string previous, string extension = "tar")
    {
        run.ExitCode.ShouldNotBe(0, run.ToString());
        run.Output.ShouldContain($"cancelled by SIG{signal}", Case.Sensitive, run.ToString());
        LastError(run.Output).ShouldContain("DIB0041", Case.Sensitive, run.ToString());
        Leaks.Of(p, run).ShouldBeEmpty();
        Fingerprint(p.OutputFile(extension)).ShouldBe(previous, "the previous image is left as it was");

        p.Environment.Remove("DIB_FAULT_BIG");
        var next = p.Build();
        next.Succeeded.ShouldBeTrue(next.Output);
        next.Ran("CreateImage").ShouldBeTrue();
        Leaks.Mounts(p).ShouldBeEmpty();
    }

    private static string LastError(string output) =>
        output.Split('\n').LastOrDefault(l => l.Contains("error DIB", StringComparison.Ordinal)) ?? "(no error)";

    private static string Fingerprint(string file) =>
        $"{File.GetLastWriteTimeUtc(file):O} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))}";
}
