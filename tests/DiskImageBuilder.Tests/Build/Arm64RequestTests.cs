using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// arm64 on this amd64 host: the qemu-user-static handler registered in the kernel's binfmt_misc for
/// the build and removed after it, the coded error when the kernel refuses it, and BIOS refused
/// before any work. The arm64 image itself boots in Heavy/Arm64BootTests.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class Arm64RequestTests
{
    private static IEnumerable<string> OurHandlers(int pid) =>
        Directory.Exists("/proc/sys/fs/binfmt_misc")
            ? Directory.EnumerateFiles("/proc/sys/fs/binfmt_misc", $"{ForeignArchitecture.HandlerPrefix}aarch64-{pid}-*")
            : [];

    [Theory]
    [InlineData("bios")]
    [InlineData("hybrid")]
    public void An_arm64_project_asking_for_BIOS_is_DIB0721_at_its_BootMode_line(string mode)
    {
        using var p = ImageProject.Busybox($"""
              <PropertyGroup>
                <Architecture>arm64</Architecture>
                <BootMode>{mode}</BootMode>
                <ImageFormat>qcow2</ImageFormat>
              </PropertyGroup>
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeFalse(run.Output);
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0721");
        error.Text.ShouldContain($"BootMode '{mode}' needs a BIOS, and arm64 machines boot by UEFI only");
        error.File.ShouldBe(p.ProjectFile);
        error.LineNumber.ShouldBe(File.ReadAllLines(p.ProjectFile).ToList().FindIndex(l => l.Contains("<BootMode>", StringComparison.Ordinal)) + 1);
        run.Messages.ShouldNotContain(m => m.StartsWith("DiskImageBuilder: root.d", StringComparison.Ordinal), "no phase ran");
    }

    [Fact]
    public void An_arm64_disk_with_only_the_PC_EFI_binary_is_DIB0211_naming_BOOTAA64()
    {
        // host-grub puts the host's (x86_64) GRUB at EFI/BOOT/BOOTX64.EFI: no arm64 firmware boots that.
        using var p = ImageProject.Busybox(
            "<PropertyGroup><Architecture>arm64</Architecture><ImageFormat>raw</ImageFormat></PropertyGroup>",
            """<Element Include="host-grub" />""");

        var run = p.Build();

        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0211");
        error.Text.ShouldContain("BootMode uefi needs GRUB's EFI binary at /boot/efi/EFI/BOOT/BOOTAA64.EFI in the image");
        error.Text.ShouldContain("grub-efi-arm64-bin");
        File.Exists(p.OutputFile("raw")).ShouldBeFalse();
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void An_arm64_block_device_configuration_without_an_ESP_is_DIB0721_before_any_work()
    {
        using var p = ImageProject.Busybox("""
              <PropertyGroup>
                <Architecture>arm64</Architecture>
                <ImageFormat>raw</ImageFormat>
                <BlockDeviceConfig>layout.yaml</BlockDeviceConfig>
              </PropertyGroup>
            """);
        p.Write("layout.yaml", """
            - local_loop: {name: image0}
            - partitioning:
                base: image0
                label: mbr
                partitions:
                  - {name: root, flags: [boot, primary], size: 100%, mkfs: {name: mkfs_root, type: ext4, mount: {mount_point: /, fstab: {fsck-passno: 1}}}}
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeFalse(run.Output);
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0721");
        error.Text.ShouldContain("The block-device configuration has no EFI system partition");
        run.Messages.ShouldNotContain(m => m.StartsWith("DiskImageBuilder: root.d", StringComparison.Ordinal), "no phase ran");
        File.Exists(p.OutputFile("raw")).ShouldBeFalse();
    }

    [Fact]
    public void Disk_image_create_a_arm64_with_DIB_BOOT_MODE_hybrid_is_DIB0721()
    {
        using var t = new TempDir();
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = Repo.TestElements, ["DIB_BOOT_MODE"] = "hybrid" };

        var run = CliHost.Create(env, t.Path, "-n", "-a", "arm64", "-t", "raw", "-o", "out/img", "busybox-tree");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Error.ShouldContain("error DIB0721: BootMode 'hybrid' needs a BIOS");
        Directory.Exists(t.Combine("out")).ShouldBeFalse(run.ToString());
    }

    [Fact]
    public void The_handler_is_registered_with_the_fix_binary_flag_and_removed_after_and_a_killed_builds_goes_first()
    {
        // A handler as a build killed with SIGKILL leaves it: named by a process that is gone.
        using var gone = Process.Start("true")!;
        gone.WaitForExit();
        var stale = $"{ForeignArchitecture.HandlerPrefix}aarch64-{gone.Id}-1";
        var log = new RecordingLog();
        using (ForeignArchitecture.Register("arm64", log, CancellationToken.None))
        {
            // Registered by hand as the engine would have: the kernel itself holds it.
            File.WriteAllText("/proc/sys/fs/binfmt_misc/register", $":{stale}:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb8\\x00::/bin/false:F");
        }

        File.Exists($"/proc/sys/fs/binfmt_misc/{stale}").ShouldBeTrue();
        using (ForeignArchitecture.Register("arm64", log, CancellationToken.None))
        {
            File.Exists($"/proc/sys/fs/binfmt_misc/{stale}").ShouldBeFalse("the next build removes what a killed build left");
            var entry = OurHandlers(Environment.ProcessId).ShouldHaveSingleItem();
            var text = File.ReadAllText(entry);
            text.ShouldStartWith("enabled\n");
            text.ShouldContain("interpreter /usr/bin/qemu-aarch64-static\n");
            text.ShouldContain("flags: F\n");
            text.ShouldContain("magic 7f454c460201010000000000000000000200b700");

            // The kernel hands an arm64 program to it: a bare arm64 ELF header, which qemu then refuses
            // itself (without the handler, exec fails with ENOEXEC and qemu never speaks).
            using var t = new TempDir();
            var elf = t.Combine("arm64-elf");
            var header = new byte[64];
            new byte[] { 0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01 }.CopyTo(header, 0);
            header[16] = 0x02; // ET_EXEC
            header[18] = 0xb7; // EM_AARCH64
            File.WriteAllBytes(elf, header);
            File.SetUnixFileMode(elf, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var ran = ProcessRunner.Run(new ProcessSpec(elf, []), null, CancellationToken.None);
            ran.TailText.ShouldContain("qemu-aarch64-static: ", customMessage: "qemu-aarch64-static answered for the arm64 program");
        }

        OurHandlers(Environment.ProcessId).ShouldBeEmpty("removed when the build ended");
    }

    [Fact]
    public void A_failed_arm64_build_removes_its_handler_too()
    {
        using var t = new TempDir();
        // The busybox tree's shell is the host's (amd64), so the hook runs; the build is arm64 all the same.
        t.Write("elements/fails/install.d/50-fails", "#!/bin/sh\necho \"ARCH=$ARCH\"\nexit 3\n");
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = $"{Repo.TestElements}:{t.Combine("elements")}" };

        var run = CliHost.Create(env, t.Path, "-n", "-a", "aarch64", "-t", "tar", "-o", "out/img", "busybox-tree", "fails");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Error.ShouldContain("error DIB0040: Element 'fails': install.d/50-fails failed with exit code 3");
        run.Out.ShouldContain("ARCH=arm64", customMessage: "-a aarch64 is Debian's arm64 for the elements");
        var handler = Regex.Match(run.Out, @"binfmt_misc handler (/proc/sys/fs/binfmt_misc/\S+), fix-binary").Groups[1].Value;
        handler.ShouldStartWith($"/proc/sys/fs/binfmt_misc/{ForeignArchitecture.HandlerPrefix}aarch64-{Environment.ProcessId}-", customMessage: run.ToString());
        File.Exists(handler).ShouldBeFalse("removed although the build failed");
    }

    [Fact]
    public void Binfmt_misc_that_cannot_be_mounted_is_DIB0720()
    {
        var log = new RecordingLog();
        var refused = Should.Throw<DibException>(() => ForeignArchitecture.Register("arm64", log, CancellationToken.None, "/nonexistent/binfmt_misc"));
        refused.Diagnostics[0].Code.ShouldBe("DIB0720");
        refused.Message.ShouldContain("binfmt_misc is not mounted at /nonexistent/binfmt_misc and mounting it failed: ");
        refused.Message.ShouldContain("qemu-aarch64-static");
    }

    /// <summary>
    /// The kernel itself refusing: the build runs as root of a user namespace with a binfmt_misc of its
    /// own (kernels since 6.7 give each user namespace one), switched off there (status 0), so the
    /// kernel runs no foreign program; the host's binfmt_misc is not touched.
    /// </summary>
    [Fact]
    public void An_arm64_build_where_binfmt_misc_is_switched_off_is_DIB0720_and_leaves_nothing()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><Architecture>arm64</Architecture></PropertyGroup>");
        var binlog = p.Combine("build.binlog");
        var psi = Dotnet.StartInfo(p.ProjectFile, p.Environment, ["-nr:false", "-tl:off", $"-bl:{binlog}"]);
        string[] prefix = ["--user", "--map-root-user", "--mount", "sh", "-c",
            "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && echo 0 > /proc/sys/fs/binfmt_misc/status && exec \"$@\"", "sh", psi.FileName];
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            psi.ArgumentList.Insert(0, prefix[i]);
        }

        psi.FileName = "unshare";
        var output = new StringBuilder();
        using var build = new Process { StartInfo = psi };
        build.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        build.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        build.Start();
        build.BeginOutputReadLine();
        build.BeginErrorReadLine();
        if (!build.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            build.Kill(entireProcessTree: true);
            throw new TimeoutException(output.ToString());
        }

        build.WaitForExit();
        var run = new BuildRun(build.ExitCode, output.ToString(), Microsoft.Build.Logging.StructuredLogger.BinaryLog.ReadBuild(binlog));

        run.Succeeded.ShouldBeFalse(run.Output);
        var error = run.Errors.ShouldHaveSingleItem(run.Output);
        error.Code.ShouldBe("DIB0720");
        error.Text.ShouldStartWith("Architecture arm64 runs the image's programs under qemu-aarch64-static through binfmt_misc, and binfmt_misc at /proc/sys/fs/binfmt_misc is 'disabled' (echo 1 > /proc/sys/fs/binfmt_misc/status turns it back on).");
        error.Text.ShouldContain("The build needs root in the host's initial namespaces");
        run.Messages.ShouldNotContain(m => m.StartsWith("DiskImageBuilder: root.d", StringComparison.Ordinal), "no phase ran");
        p.MountsUnderProject().ShouldBeEmpty();
        if (File.Exists("/proc/sys/fs/binfmt_misc/status"))
        {
            File.ReadAllText("/proc/sys/fs/binfmt_misc/status").Trim().ShouldBe("enabled", "the host's binfmt_misc is untouched");
        }
    }
}
