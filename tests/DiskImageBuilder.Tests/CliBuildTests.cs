using System.Diagnostics;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;
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
        File.ReadAllText(Path.Combine(tree, "etc/probe")).Trim().ShouldBe("web passed");
        HostFiles.MountsUnder(t.Path).ShouldBeEmpty();
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

/// <summary>The same Debian image from the CLI and from the SDK. Slow (two debootstraps), needs root and the mirror.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class CliDebianTests
{
    [Fact]
    public void Disk_image_create_debian_minimal_has_the_same_files_as_the_SDK_build()
    {
        using var sdk = new ImageProject("""<PropertyGroup><ImageFormat>tar</ImageFormat></PropertyGroup><ItemGroup><Element Include="debian-minimal" /></ItemGroup>""", "debian");
        var clock = Stopwatch.StartNew();
        var sdkRun = sdk.Build();
        var sdkTime = clock.Elapsed;
        sdkRun.Succeeded.ShouldBeTrue(sdkRun.Output);

        using var cli = new TempDir();
        var env = RequestValues.ProcessEnvironment().Where(e => e.Key != "ELEMENTS_PATH").ToDictionary();
        clock.Restart();
        var run = CliHost.Create(env, cli.Path, "-o", "debian", "-t", "tar", "debian-minimal");
        var cliTime = clock.Elapsed;
        run.ExitCode.ShouldBe(0, run.ToString());

        var sdkFiles = TarList(sdk.OutputFile());
        var cliFiles = TarList(cli.Combine("debian.tar"));
        cliFiles.Count.ShouldBeGreaterThan(1000);
        cliFiles.Except(sdkFiles).ShouldBeEmpty("files only in the CLI image");
        sdkFiles.Except(cliFiles).ShouldBeEmpty("files only in the SDK image");
        Console.WriteLine($"SDK build {sdkTime.TotalSeconds:0} s, CLI build {cliTime.TotalSeconds:0} s");
    }

    // Through a file: Sh keeps only the last 10000 lines and a Debian tree has more.
    private static List<string> TarList(string tar)
    {
        ImageProject.Sh($"tar -tf '{tar}' | LC_ALL=C sort > '{tar}.list'");
        return [.. File.ReadAllLines(tar + ".list")];
    }
}

/// <summary>The README's install line, into a private tool path: both commands installed and runnable.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class CliInstallTests
{
    [Fact]
    public void Install_script_puts_both_commands_in_place()
    {
        using var tools = new TempDir();

        ImageProject.Sh($"'{Repo.Root}/eng/install-cli.sh' --tool-path '{tools.Path}'");

        ImageProject.Sh($"'{tools.Path}/disk-image-create' --version").ShouldStartWith("disk-image-create ");
        ImageProject.Sh($"ELEMENTS_PATH='{Repo.TestElements}' '{tools.Path}/element-info' --expand-dependencies busybox-tree").Trim().ShouldBe("busybox-tree");
        ImageProject.Sh($"'{tools.Path}/element-info' --list").ShouldContain("debian-minimal");
    }
}
