using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>SOURCE_DATE_EPOCH: the same image built twice, in two folders at two times, is the same bit for bit. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class ReproducibleTests
{
    // Not vhdx, vdi, vmdk, vhd: qemu-img gives each new file random identifiers (GUIDs, UUIDs, CIDs).
    private const string Formats = "tar;tgz;squashfs;docker;oci;raw;qcow2";
    private static readonly string[] Extensions = ["tar", "tgz", "squashfs", "docker.tar", "oci.tar", "raw", "qcow2", "spdx.json", "cdx.json"];

    private static ImageProject Project()
    {
        // Every hook runs in both builds (no phase snapshots), and writes a file there and then.
        var p = ImageProject.Busybox(
            $"<PropertyGroup><ImageFormat>{Formats}</ImageFormat><DisablePhaseCache>true</DisablePhaseCache></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="stamp" />""");
        // Logs of when things ran, as dpkg, apt and ldconfig leave them: different in every build.
        p.Write("elements/stamp/install.d/50-stamp", """
            #!/bin/sh
            set -eu
            echo built > /etc/stamp
            mkdir -p /var/lib/stamp /var/log/apt /var/cache/ldconfig
            date +%s%N > /var/log/dpkg.log
            date +%s%N > /var/log/apt/history.log
            date +%s%N > /var/cache/ldconfig/aux-cache
            """ + "\n");
        p.Environment["SOURCE_DATE_EPOCH"] = "1700000000";
        return p;
    }

    private static Dictionary<string, string> Sums(ImageProject p) =>
        Extensions.ToDictionary(e => e, e => ImageProject.Sh($"sha256sum '{p.OutputFile(e)}'").Split(' ')[0]);

    [Fact]
    public void Two_builds_in_two_folders_at_two_times_give_the_same_bytes_in_every_format()
    {
        using var first = Project();
        using var second = Project();

        var run = first.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        Thread.Sleep(1100); // another second for every file the second build writes
        run = second.Build();
        run.Succeeded.ShouldBeTrue(run.Output);

        first.Dir.ShouldNotBe(second.Dir);
        Sums(second).ShouldBe(Sums(first));
        ImageProject.Sh($"TZ=UTC tar -tvf '{first.OutputFile("tar")}' ./etc/stamp").ShouldContain("2023-11-14 22:13", Case.Sensitive, "clamped to SOURCE_DATE_EPOCH");
        var files = ImageProject.Sh($"tar -tf '{first.OutputFile("tar")}'");
        files.ShouldNotContain("./var/log/dpkg.log", customMessage: "build logs are left out of a reproducible image");
        files.ShouldNotContain("./var/cache/ldconfig/aux-cache");
        files.ShouldContain("./var/log/apt/");
    }

    [Fact]
    public void A_configured_layout_with_a_separate_var_is_the_same_bit_for_bit_in_two_builds()
    {
        const string layout = """

            - local_loop: {name: image0}
            - partitioning:
                base: image0
                label: mbr
                partitions:
                  - {name: root, flags: [boot, primary], size: 60%, mkfs: {type: ext4, label: root, mount: {mount_point: /, fstab: {}}}}
                  - {name: var, size: 100%, mkfs: {type: ext3, label: var, mount: {mount_point: /var, fstab: {}}}}

            """;
        ImageProject Layout()
        {
            var p = Project();
            File.WriteAllText(p.ProjectFile, File.ReadAllText(p.ProjectFile)
                .Replace($"<ImageFormat>{Formats}</ImageFormat>", $"<ImageFormat>raw</ImageFormat><BlockDeviceConfig>{layout}</BlockDeviceConfig>", StringComparison.Ordinal));
            return p;
        }

        using var first = Layout();
        using var second = Layout();
        var run = first.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        Thread.Sleep(1100);
        run = second.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        run.Messages.ShouldContain(m => m.Contains("ext3 'var'", StringComparison.Ordinal), "the layout made /var");
        ImageProject.Sh($"sha256sum < '{second.OutputFile("raw")}'").ShouldBe(ImageProject.Sh($"sha256sum < '{first.OutputFile("raw")}'"));
    }

    [Fact]
    public void ImageDeterministic_takes_the_time_of_the_project_s_last_commit_and_outside_git_is_DIB0403()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageDeterministic>true</ImageDeterministic></PropertyGroup>");

        var error = p.Build().Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0403");
        error.File.ShouldBe(p.ProjectFile);

        ImageProject.Sh($"cd '{p.Dir}' && git init -q && git add -A && GIT_COMMITTER_DATE=@1600000000 git -c user.name=t -c user.email=t@t commit -q -m image");
        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        ImageProject.Sh($"TZ=UTC tar -tvf '{p.OutputFile("tar")}' ./etc/os-release").ShouldContain("2020-09-13 12:26", Case.Sensitive, "clamped to the commit's time");
    }

    [Fact]
    public void A_SOURCE_DATE_EPOCH_that_is_no_number_is_DIB0402_before_any_work()
    {
        using var p = ImageProject.Busybox();
        p.Environment["SOURCE_DATE_EPOCH"] = "yesterday";

        var error = p.Build().Errors.ShouldHaveSingleItem();

        error.Code.ShouldBe("DIB0402");
        error.Text.ShouldContain("'yesterday'");
        File.Exists(p.OutputFile()).ShouldBeFalse();
    }
}
