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
        p.Build().Succeeded.ShouldBeTrue();
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

            var waited = p.Run(_ =>
            {
                Thread.Sleep(TimeSpan.FromSeconds(3));
                ImageProject.Sh($"kill -TERM {first.Id}");
            });
            waited.Succeeded.ShouldBeTrue(waited.Output);
            waited.Messages.ShouldContain(m => m.StartsWith("DiskImageBuilder: waiting for another build of ", StringComparison.Ordinal));
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

    private static string LastError(string output) =>
        output.Split('\n').LastOrDefault(l => l.Contains("error DIB", StringComparison.Ordinal)) ?? "(no error)";

    private static string Fingerprint(string file) =>
        $"{File.GetLastWriteTimeUtc(file):O} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))}";
}

/// <summary>A build (dotnet build or the CLI) started in a session of its own and sent a signal while a hook runs.</summary>
internal sealed record SignalledRun(int ExitCode, string Output, IReadOnlyList<ProcessId> Descendants)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>A process, by PID and start time (a PID alone may be reused).</summary>
internal sealed record ProcessId(int Pid, long StartTime, string Command);

internal static class Signalled
{
    public static SignalledRun Build(ImageProject p, string whileRunning, string signal, bool toGroup) =>
        Run(Dotnet.StartInfo(p.ProjectFile, p.Environment, ["-nr:false", "-tl:off", "-v:m"], ownSession: true), whileRunning, signal, toGroup);

    /// <summary>
    /// Starts <paramref name="psi"/>, waits until a process whose command line holds
    /// <paramref name="whileRunning"/> runs, notes every descendant, sends SIG<paramref name="signal"/>
    /// to the process (or its process group), and waits for it to end.
    /// </summary>
    public static SignalledRun Run(ProcessStartInfo psi, string whileRunning, string signal, bool toGroup)
    {
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        IReadOnlyList<ProcessId> descendants = [];
        try
        {
            SpinWait.SpinUntil(() => process.HasExited || Tree.Descendants(process.Id).Any(d => d.Command.Contains(whileRunning, StringComparison.Ordinal)), TimeSpan.FromMinutes(3))
                .ShouldBeTrue("the hook should have started");
            process.HasExited.ShouldBeFalse(output.ToString());
            descendants = Tree.Descendants(process.Id);
            ImageProject.Sh($"kill -{signal} {(toGroup ? "-" : string.Empty)}{process.Id}");
            process.WaitForExit(TimeSpan.FromMinutes(2)).ShouldBeTrue("the build should end within 2 minutes of the signal");
            process.WaitForExit();
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (output)
        {
            return new SignalledRun(process.ExitCode, output.ToString(), descendants);
        }
    }
}

/// <summary>Reads the process tree from /proc.</summary>
internal static class Tree
{
    public static IReadOnlyList<ProcessId> Descendants(int root)
    {
        var all = new List<(ProcessId Id, int Parent)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(pid) is { } info)
            {
                all.Add(info);
            }
        }

        var found = new List<ProcessId>();
        var parents = new HashSet<int> { root };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (id, parent) in all)
            {
                if (parents.Contains(parent) && parents.Add(id.Pid))
                {
                    found.Add(id);
                    grew = true;
                }
            }
        }

        return found;
    }

    /// <summary>Whether that process still runs (a zombie has ended: it only waits to be reaped).</summary>
    public static bool Alive(ProcessId id) => ReadFull(id.Pid) is { } now && now.Id.StartTime == id.StartTime && !now.Zombie;

    private static (ProcessId Id, int Parent, bool Zombie)? ReadFull(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var command = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            return (new ProcessId(pid, long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture), command),
                int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), fields[0] == "Z");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static (ProcessId Id, int Parent)? Read(int pid) => ReadFull(pid) is { } f ? (f.Id, f.Parent) : null;
}

/// <summary>What a build left behind that it should not have.</summary>
internal static class Leaks
{
    public static IReadOnlyList<string> Of(ImageProject p, SignalledRun run) =>
        [.. Processes(run), .. Mounts(p), .. LoopDevices(p), .. WorkDirectory(p), .. PartialOutputs(p)];

    /// <summary>Descendants noted while the build ran that still run; they get a few seconds to die.</summary>
    public static IReadOnlyList<string> Processes(SignalledRun run)
    {
        SpinWait.SpinUntil(() => !run.Descendants.Any(Tree.Alive), TimeSpan.FromSeconds(5));
        var alive = run.Descendants.Where(Tree.Alive).ToList();
        foreach (var id in alive)
        {
            // Never leave them behind the test.
            try
            {
                Process.GetProcessById(id.Pid).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }

        return [.. alive.Select(a => $"process {a.Pid}: {a.Command}")];
    }

    /// <summary>Mounts at or below the project in any process's mount namespace.</summary>
    public static IReadOnlyList<string> Mounts(ImageProject p)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                foreach (var point in File.ReadLines(Path.Combine(dir, "mountinfo")).Select(l => l.Split(' ')[4]))
                {
                    if (point.StartsWith(p.Dir, StringComparison.Ordinal))
                    {
                        found.Add("mount " + point);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return [.. found];
    }

    public static IReadOnlyList<string> LoopDevices(ImageProject p) =>
        [.. ImageProject.Sh("losetup -a").Split('\n').Where(l => l.Contains(p.Dir, StringComparison.Ordinal)).Select(l => "loop " + l)];

    public static IReadOnlyList<string> WorkDirectory(ImageProject p) =>
        Directory.Exists(p.Combine("obj/Debug/dib/work")) ? ["work directory obj/Debug/dib/work"] : [];

    public static IReadOnlyList<string> PartialOutputs(ImageProject p) =>
        Directory.Exists(p.Combine("bin")) ? [.. Directory.EnumerateFiles(p.Combine("bin"), "*partial*", SearchOption.AllDirectories).Select(f => "partial " + f)] : [];
}

/// <summary>Bad inputs: each a coded error naming the problem, before any work (no phase ran).</summary>
[Trait("Category", "Faults")]
[Trait(Tier.Name, Tier.Build)]
public sealed class BadInputTests
{
    private static void ShouldFailBeforeWork(BuildRun run, string code, string text)
    {
        run.Succeeded.ShouldBeFalse(run.Output);
        run.Errors.ShouldContain(e => e.Code == code && e.Text.Contains(text, StringComparison.Ordinal), run.Output);
        run.Errors.ShouldNotContain(e => e.Code == "DIB0999" || e.Text.Contains("   at ", StringComparison.Ordinal), "no stack traces");
        run.Messages.ShouldNotContain(m => m.StartsWith("DiskImageBuilder: root.d:", StringComparison.Ordinal), "no phase ran");
    }

    [Fact]
    public void An_ImageName_with_folder_parts_is_DIB0025_and_nothing_is_written_outside_the_output_folder()
    {
        using var p = ImageProject.Busybox();
        var run = p.Build("-p:ImageName=../../escaped");
        ShouldFailBeforeWork(run, "DIB0025", "Invalid ImageName '../../escaped'");
        File.Exists(p.Combine("escaped.tar")).ShouldBeFalse();
    }

    [Theory]
    [InlineData("-oAPT::Get::Assume-Yes=false")]
    [InlineData("two words")]
    [InlineData("--purge")]
    public void A_package_name_that_is_no_package_name_is_DIB0026(string name)
    {
        using var p = ImageProject.Busybox($"""<ItemGroup><Package Include="{System.Security.SecurityElement.Escape(name)}" /></ItemGroup>""");
        ShouldFailBeforeWork(p.Build(), "DIB0026", $"'{name}'");
    }

    [Theory]
    [InlineData("less")]
    [InlineData("libc6:amd64")]
    [InlineData("nginx=1.22.1-9")]
    [InlineData("vim-tiny-")]
    [InlineData("linux-image-amd64/bookworm-backports")]
    [InlineData("g++")]
    public void Real_package_names_pass(string name) => RequestValues.CheckPackages([name], null);

    [Fact]
    public void A_hook_that_is_a_dangling_symbolic_link_is_DIB0028()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="bad" />""");
        Directory.CreateDirectory(p.Combine("elements/bad/install.d"));
        File.CreateSymbolicLink(p.Combine("elements/bad/install.d/50-gone"), "/nonexistent/script");
        ShouldFailBeforeWork(p.Build(), "DIB0028", "install.d/50-gone is a symbolic link to /nonexistent/script, which does not exist");
    }

    [Fact]
    public void A_hook_with_Windows_line_endings_is_DIB0028_naming_them()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="bad" />""");
        p.Write("elements/bad/install.d/50-crlf", "#!/bin/sh\r\necho hi\r\n");
        ShouldFailBeforeWork(p.Build(), "DIB0028", "install.d/50-crlf has Windows line endings (CRLF)");
    }

    [Fact]
    public void A_host_hook_whose_interpreter_is_missing_is_DIB0028_before_work()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="bad" />""");
        p.Write("elements/bad/extra-data.d/50-zsh", "#!/usr/bin/no-such-shell -e\necho hi\n");
        ShouldFailBeforeWork(p.Build(), "DIB0028", "its interpreter /usr/bin/no-such-shell (from its first line, '#!/usr/bin/no-such-shell -e') does not exist on the host");
    }

    [Fact]
    public void An_image_hook_whose_interpreter_the_image_lacks_is_DIB0028_not_a_bare_exit_code()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="bad" />""");
        p.Write("elements/bad/install.d/50-python", "#!/usr/bin/python3\nprint('hi')\n");
        var run = p.Build();
        run.Succeeded.ShouldBeFalse();
        run.Errors.ShouldContain(e => e.Code == "DIB0028" && e.Text.Contains("its interpreter /usr/bin/python3", StringComparison.Ordinal) && e.Text.Contains("does not exist in the image", StringComparison.Ordinal), run.Output);
    }

    [Fact]
    public void An_ImageFile_that_is_a_directory_is_DIB0027()
    {
        using var p = ImageProject.Busybox("""<ItemGroup><ImageFile Include="conf" ImagePath="/etc/conf" /></ItemGroup>""");
        Directory.CreateDirectory(p.Combine("conf"));
        ShouldFailBeforeWork(p.Build(), "DIB0027", "is a directory");
    }

    [Fact]
    public void A_read_only_output_folder_is_DIB0046_without_a_stack_trace()
    {
        using var p = ImageProject.Busybox();
        var readOnly = p.Combine("ro");
        Directory.CreateDirectory(readOnly);
        ImageProject.Sh($"mount -t tmpfs -o ro,size=1m dib-test-ro '{readOnly}'");
        try
        {
            var run = p.Build($"-p:ImageOutputDirectory={readOnly}/out/");
            run.Succeeded.ShouldBeFalse();
            var error = run.Errors.ShouldHaveSingleItem();
            error.Code.ShouldBe("DIB0046", run.Output);
            error.Text.ShouldContain("read-only");
            error.Text.ShouldNotContain("   at ");
        }
        finally
        {
            ImageProject.Sh($"umount '{readOnly}'");
        }
    }
}
