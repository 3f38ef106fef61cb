using System.Diagnostics;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>disk-image-create building the offline busybox tree in-process, and DIB's break= without a terminal. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed partial class CliBuildTests
{
    private static Dictionary<string, string> Env(TempDir t, string? breakAt = null)
    {
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = $"{Repo.TestElements}:{t.Combine("elements")}" };
        if (breakAt is not null)
        {
            env["break"] = breakAt;
        }

        return env;
    }

    [Fact]
    public void Builds_a_tar_at_the_output_prefix_with_a_log_file()
    {
        using var t = new TempDir();
        t.Write("elements/probe/install.d/50-probe", "#!/bin/sh\necho \"$IMAGE_NAME $DIB_FROM_CALLER\" > /etc/probe\n");
        var env = Env(t, breakAt: "after-error");
        env["DIB_FROM_CALLER"] = "passed";

        var run = CliHost.Create(env, t.Path, "-n", "-t", "tar", "-o", "out/web", "--logfile", "build.log", "busybox-tree", "probe");

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Error.ShouldBeEmpty();
        run.Out.ShouldContain("DiskImageBuilder: install.d: 1 script(s)");
        run.Out.ShouldContain($"Image file {t.Combine("out", "web.tar")} created.");
        File.ReadAllText(t.Combine("build.log")).ShouldContain("DiskImageBuilder: install.d took");
        var tree = ImageProject.ExtractTar(t.Combine("out", "web.tar"), t.Combine("tree"));
        File.ReadAllText(Path.Combine(tree, "etc/probe")).Trim().ShouldBe("out/web passed");
        HostFiles.MountsUnder(t.Path).ShouldBeEmpty();
    }

    [Fact]
    public void The_tree_a_killed_build_left_is_removed_by_the_next_build_of_the_same_image()
    {
        using var t = new TempDir();
        var work = Outputs.ScratchDirectoryFor(t.Combine("web"));
        work.ShouldStartWith(Path.Combine(Path.GetTempPath(), "dib_build."));
        Outputs.ScratchDirectoryFor(t.Combine("web")).ShouldBe(work, "named by the output");
        Outputs.ScratchDirectoryFor(t.Combine("other")).ShouldNotBe(work);

        // What kill -9 of disk-image-create leaves: its work directory, with a tree in it.
        Directory.CreateDirectory(Path.Combine(work, "root", "etc"));
        File.WriteAllText(Path.Combine(work, "root", "etc", "left-by-a-killed-build"), "x");
        try
        {
            var run = CliHost.Create(Env(t), t.Path, "-n", "-t", "tar", "-o", "web", "busybox-tree");

            run.ExitCode.ShouldBe(0, run.ToString());
            Directory.Exists(work).ShouldBeFalse("the build removed the old tree before its own and its own after it");
            ImageProject.Sh($"tar -tf '{t.Combine("web.tar")}'").ShouldNotContain("left-by-a-killed-build");
        }
        finally
        {
            if (Directory.Exists(work))
            {
                HostFiles.RemoveTree(work);
            }
        }
    }

    [Fact]
    public void Break_before_install_without_a_terminal_stops_and_keeps_the_tree()
    {
        using var t = new TempDir();
        t.Write("elements/probe/install.d/50-probe", "#!/bin/sh\ntouch /installed\n");

        var run = CliHost.Create(Env(t, breakAt: "before-install"), t.Path, "-n", "-o", "web", "busybox-tree", "probe");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Error.ShouldStartWith("disk-image-create: error DIB0044: Stopped at break=before-install.d (no terminal for a shell).");
        run.Out.ShouldContain("DiskImageBuilder: pre-install.d took");
        run.Out.ShouldNotContain("DiskImageBuilder: install.d");
        var work = KeptWorkDirectory(run);
        try
        {
            File.Exists(Path.Combine(work, "root/bin/busybox")).ShouldBeTrue("root.d ran");
            File.Exists(Path.Combine(work, "root/installed")).ShouldBeFalse("install.d did not run");
            HostFiles.MountsUnder(work).ShouldBeEmpty();
            File.Exists(t.Combine("web.tar")).ShouldBeFalse();
        }
        finally
        {
            HostFiles.RemoveTree(work);
        }
    }

    [Fact]
    public void Break_after_error_without_a_terminal_reports_the_failure_and_keeps_the_tree()
    {
        using var t = new TempDir();
        t.Write("elements/broken/install.d/50-fails", "#!/bin/sh\ntouch /got-here\nsleep 7011 &\nexit 3\n");

        var run = CliHost.Create(Env(t, breakAt: "after-error"), t.Path, "-n", "busybox-tree", "broken");

        run.ExitCode.ShouldBe(1, run.ToString());
        var errors = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("disk-image-create: error", StringComparison.Ordinal)).ToList();
        errors[0].ShouldStartWith("disk-image-create: error DIB0040: Element 'broken': install.d/50-fails failed with exit code 3");
        errors[^1].ShouldStartWith("disk-image-create: error DIB0044: Stopped at break=after-error");
        var work = KeptWorkDirectory(run);
        try
        {
            File.Exists(Path.Combine(work, "root/got-here")).ShouldBeTrue();
            HostFiles.MountsUnder(work).ShouldBeEmpty();
            Processes.Matching("sleep 7011").ShouldBeEmpty();
        }
        finally
        {
            HostFiles.RemoveTree(work);
        }
    }

    private static string KeptWorkDirectory(CliRun run)
    {
        var m = KeptPattern().Match(run.Error);
        m.Success.ShouldBeTrue(run.ToString());
        Directory.Exists(m.Groups[1].Value).ShouldBeTrue();
        return m.Groups[1].Value;
    }

    [GeneratedRegex("the work directory (\\S+) is kept")]
    private static partial Regex KeptPattern();
}
