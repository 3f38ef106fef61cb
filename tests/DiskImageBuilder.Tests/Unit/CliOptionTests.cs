using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>disk-image-create's command line: DIB's options, getopt's rules and wording, errors before any work.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class CliOptionTests
{
    private static Dictionary<string, string> Env(params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = Repo.TestElements, ["PATH"] = "/usr/bin:/bin" };
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }

        return env;
    }

    [Fact]
    public void Every_option_reaches_the_request()
    {
        using var dir = new TempDir();
        var command = CliHost.Parse(
            Env(("DIB_FROM_CALLER", "yes"), ("break", "before-install,after-error")),
            dir.Path,
            "-a", "aarch64", "-o", "out/web", "-t", "tar", "-x", "-u", "-n", "-p", "less,vim", "-p", "curl",
            "--image-size", "2G", "--image-cache", "cache", "--max-online-resize", "1000", "--mkfs-options", "-O ^has_journal",
            "--qemu-img-options", "compat=1.1", "--root-label", "rootfs", "--install-type", "package", "--docker-target", "me/img",
            "--checksum", "--offline", "--no-tmpfs", "--min-tmpfs", "2", "--logfile", "build.log", "--no-phase-cache", "--image-cache-max-size", "5G", "busybox-tree");

        var r = command.Request;
        r.Architecture.ShouldBe("arm64");
        r.ImageName.ShouldBe("web");
        r.OutputDirectory.ShouldBe(dir.Combine("out"));
        r.OutputPaths().ShouldBe([dir.Combine("out", "web.tar")]);
        r.Formats.ShouldBe(["tar"]);
        r.Trace.ShouldBeTrue();
        r.NoCompression.ShouldBeTrue();
        r.SkipBaseElement.ShouldBeTrue();
        r.Packages.ShouldBe(["less", "vim", "curl"]);
        r.ImageSize.ShouldBe(2L << 30);
        r.MaxOnlineResize.ShouldBe(1000);
        r.MkfsOptions.ShouldBe("-O ^has_journal");
        r.QemuImgOptions.ShouldBe("compat=1.1");
        r.RootLabel.ShouldBe("rootfs");
        r.DockerTarget.ShouldBe("me/img");
        r.Checksums.ShouldBe(["md5", "sha256"]);
        r.BreakPoints.ShouldBe(["before-install.d", "after-error"]);
        r.Environment["DIB_IMAGE_CACHE"].ShouldBe(dir.Combine("cache"));
        r.Environment["DIB_DEFAULT_INSTALLTYPE"].ShouldBe("package");
        r.Environment["DIB_OFFLINE"].ShouldBe("1");
        r.Environment["DIB_NO_TMPFS"].ShouldBe("1");
        r.Environment["DIB_FROM_CALLER"].ShouldBe("yes");
        r.Environment.ContainsKey("PATH").ShouldBeFalse();
        r.Elements.Select(e => e.Name).ShouldBe(["busybox-tree"]);
        r.ElementsPath.ShouldBe([Repo.TestElements, Repo.Elements]);
        command.LogFile.ShouldBe(dir.Combine("build.log"));
        r.Environment["DIB_MIN_TMPFS"].ShouldBe("2");
        r.PhaseCache.ShouldBeFalse();
        r.ImageCacheMaxSize.ShouldBe(5L << 30);
        var json = r.ToJson();
        json.ShouldContain("\"MaxOnlineResize\": 1000");
        BuildRequest.FromJson(json).ToJson().ShouldBe(json);
    }

    [Fact]
    public void Defaults_match_DIB_and_long_options_take_equals_and_prefixes()
    {
        using var dir = new TempDir();
        var r = CliHost.Parse(Env(), dir.Path, "busybox-tree", "--checksum=sha256", "--image-s=512M").Request;
        r.ImageName.ShouldBe("image");
        r.OutputDirectory.ShouldBe(dir.Path);
        r.Formats.ShouldBe(["qcow2"], "qcow2 is the default, as in DIB");
        r.Architecture.ShouldBe("amd64");
        r.SkipBaseElement.ShouldBeFalse();
        r.Checksums.ShouldBe(["sha256"]);
        r.ImageSize.ShouldBe(512L << 20);
        r.BreakPoints.ShouldBeEmpty();
        CliHost.Parse(Env(), dir.Path, "--image-size", "1.5", "busybox-tree").Request.ImageSize.ShouldBe(3L << 29, "a bare number is GB, as in DIB");
    }

    [Fact]
    public void Short_flags_combine_and_values_attach()
    {
        var r = CliHost.Parse(Env(), "/srv", "-xunc", "-oimages/web", "-ttar", "-pless", "--", "busybox-tree").Request;
        r.Trace.ShouldBeTrue();
        r.NoCompression.ShouldBeTrue();
        r.SkipBaseElement.ShouldBeTrue();
        r.OutputPaths().ShouldBe(["/srv/images/web.tar"]);
        r.Packages.ShouldBe(["less"]);
        r.Elements.Select(e => e.Name).ShouldBe(["busybox-tree"]);
    }

    [Fact]
    public void Absolute_output_path_is_used_as_is()
    {
        CliHost.Parse(Env(), "/srv", "-o", "/x/y", "-n", "busybox-tree").Request.OutputPaths().ShouldBe(["/x/y.qcow2"]);
    }

    [Fact]
    public void Dash_c_keeps_the_callers_DIB_variables_out_but_not_proxies()
    {
        var env = Env(("DIB_FROM_CALLER", "yes"), ("http_proxy", "http://proxy:3128"), ("SECRET", "no"));
        var cleared = CliHost.Parse(env, "/srv", "-c", "-n", "--offline", "busybox-tree").Request.Environment;
        cleared.ContainsKey("DIB_FROM_CALLER").ShouldBeFalse();
        cleared["DIB_OFFLINE"].ShouldBe("1", "options still set their variables");
        cleared["http_proxy"].ShouldBe("http://proxy:3128");
        cleared.ContainsKey("SECRET").ShouldBeFalse();
        CliHost.Parse(env, "/srv", "-n", "busybox-tree").Request.Environment["DIB_FROM_CALLER"].ShouldBe("yes");
    }

    [Fact]
    public void Boot_mode_and_default_format_follow_DIB()
    {
        using var dir = new TempDir();
        var plain = CliHost.Parse(Env(), dir.Path, "busybox-tree").Request;
        plain.Formats.ShouldBe(["qcow2"]);
        plain.BootMode.ShouldBe(string.Empty, "the block-device element chooses; bios without one");
        CliHost.Parse(Env(("DIB_BOOT_MODE", "hybrid")), dir.Path, "busybox-tree").Request.BootMode.ShouldBe("hybrid");
        var bad = CliHost.Create(Env(("DIB_BOOT_MODE", "floppy")), dir.Path, "busybox-tree");
        bad.ExitCode.ShouldBe(1);
        bad.Error.ShouldContain("error DIB0021: Unknown BootMode 'floppy'");
    }

    [Theory]
    [InlineData("DIB0023", "invalid option -- 'z'", "-z", "busybox-tree")]
    [InlineData("DIB0023", "invalid option -- 'q'", "-xq", "busybox-tree")]
    [InlineData("DIB0023", "unrecognized option '--bogus'", "--bogus", "busybox-tree")]
    [InlineData("DIB0023", "option requires an argument -- 'o'", "busybox-tree", "-o")]
    [InlineData("DIB0023", "option '--logfile' requires an argument", "busybox-tree", "--logfile")]
    [InlineData("DIB0023", "option '--offline' doesn't allow an argument", "--offline=1", "busybox-tree")]
    [InlineData("DIB0023", "option '--m' is ambiguous", "--m", "x", "busybox-tree")]
    [InlineData("DIB0023", "no elements given", "-x")]
    [InlineData("DIB0024", "qemu-img reads 'dmg' images but cannot write them. Disk formats written here: qcow2, raw, vhd, vmdk, vhdx, vdi, qed, qcow, parallels.", "-t", "tar,dmg", "busybox-tree")]
    [InlineData("DIB0400", "Image format 'aci' (the App Container image of rkt) is deprecated in diskimage-builder", "-t", "tar,aci", "busybox-tree")]
    [InlineData("DIB0020", "Unknown image format 'floppy'. Valid formats: qcow2, raw, vhd, vmdk, vhdx, vdi, qed, qcow, parallels, tar, tgz, squashfs, docker, oci.", "-t", "floppy", "busybox-tree")]
    [InlineData("DIB0021", "Unknown Architecture 'sparc'", "-a", "sparc", "busybox-tree")]
    [InlineData("DIB0021", "Invalid --image-size '2X'", "--image-size", "2X", "busybox-tree")]
    [InlineData("DIB0021", "Invalid --max-online-resize '-3'", "--max-online-resize", "-3", "busybox-tree")]
    [InlineData("DIB0021", "Invalid --checksum 'sha1': expected md5 or sha256.", "--checksum=sha1", "busybox-tree")]
    [InlineData("DIB0021", "Invalid --min-tmpfs 'lots'", "--min-tmpfs", "lots", "busybox-tree")]
    [InlineData("DIB0021", "Invalid --root-label", "--root-label", "a-label-far-too-long", "busybox-tree")]
    [InlineData("DIB0001", "Element 'no-such-element' (required by the image) was not found", "-n", "busybox-tree", "no-such-element")]
    public void Bad_command_lines_fail_with_exit_1_before_any_work(string code, string text, params string[] args)
    {
        using var dir = new TempDir();
        var run = CliHost.Create(Env(), dir.Path, args);
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Error.ShouldStartWith($"disk-image-create: error {code}: ", Case.Sensitive, run.ToString());
        run.Error.ShouldContain(text, Case.Sensitive, run.ToString());
        run.Out.ShouldBeEmpty("nothing was built or logged");
        Directory.EnumerateFileSystemEntries(dir.Path).ShouldBeEmpty();
    }

    [Fact]
    public void Bad_break_value_is_an_error_naming_the_variable()
    {
        var run = CliHost.Create(Env(("break", "before-lunch")), "/tmp", "busybox-tree");
        run.ExitCode.ShouldBe(1);
        run.Error.ShouldStartWith("disk-image-create: error DIB0022: Unknown break point 'before-lunch'");
        run.Error.ShouldContain("(environment variable break)");
    }

    [Fact]
    public void Help_and_version_exit_0()
    {
        var help = CliHost.Create(Env(), "/tmp", "-h");
        help.ExitCode.ShouldBe(0);
        help.Out.ShouldContain("Usage: disk-image-create [OPTION]... ELEMENT...");
        help.Out.ShouldContain("output formats: qcow2, raw, vhd, vmdk, vhdx, vdi, qed, qcow, parallels, tar, tgz, squashfs, docker, oci");
        help.Out.ShouldContain("(default: qcow2)");
        var version = CliHost.Create(Env(), "/tmp", "--version");
        version.ExitCode.ShouldBe(0);
        version.Out.Trim().ShouldStartWith("disk-image-create 0.1.0");
    }
}
