using System.Text.Json;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Every output format, each read back by a real consumer (tar, gzip, unsquashfs, skopeo, umoci, qemu-img, e2fsck). Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class OutputFormatTests
{
    private static string Sh(string command) => ImageProject.Sh(command);

    /// <summary>The docker archive copied by skopeo to an OCI layout (skopeo checks every blob's digest) and unpacked by umoci.</summary>
    private static string UnpackWithUmoci(string transport, string archive, string work)
    {
        Directory.CreateDirectory(work);
        Sh($"skopeo copy --quiet {transport}:'{archive}' oci:'{work}/layout':copied");
        Sh($"umoci unpack --image '{work}/layout:copied' '{work}/bundle'");
        return Path.Combine(work, "bundle", "rootfs");
    }

    /// <summary>The SBOMs beside the image: valid SPDX naming each output with its real sha256, and the elements; no packages in a tree without dpkg.</summary>
    private static void CheckSbom(string stem, string[] extensions, string[] elements)
    {
        using var spdx = JsonDocument.Parse(File.ReadAllText(stem + ".spdx.json"));
        SpdxCheck.Problems(spdx.RootElement).ShouldBeEmpty();
        var packages = spdx.RootElement.GetProperty("packages").EnumerateArray().ToList();
        var images = packages.Where(p => p.GetProperty("primaryPackagePurpose").GetString() == "OPERATING-SYSTEM")
            .ToDictionary(p => p.GetProperty("packageFileName").GetString()!, p => p.GetProperty("checksums")[0].GetProperty("checksumValue").GetString());
        images.Keys.Order(StringComparer.Ordinal).ShouldBe(extensions.Select(e => $"{Path.GetFileName(stem)}.{e}").Order(StringComparer.Ordinal));
        foreach (var (file, sha) in images)
        {
            Sh($"sha256sum '{Path.Combine(Path.GetDirectoryName(stem)!, file)}'").Split(' ')[0].ShouldBe(sha);
        }

        packages.Where(p => p.GetProperty("primaryPackagePurpose").GetString() == "SOURCE").Select(p => p.GetProperty("name").GetString()).ShouldBe(elements);
        packages.ShouldNotContain(p => p.GetProperty("primaryPackagePurpose").GetString() == "LIBRARY");
        using var cdx = JsonDocument.Parse(File.ReadAllText(stem + ".cdx.json"));
        cdx.RootElement.GetProperty("metadata").GetProperty("component").GetProperty("components").GetArrayLength().ShouldBe(extensions.Length);
    }

    [Fact]
    public void DIB_s_output_format_run_a_tree_with_no_OS_as_tar_tgz_squashfs_raw_qcow2_docker_at_once()
    {
        using var t = new TempDir();
        var env = new Dictionary<string, string> { ["ELEMENTS_PATH"] = Repo.TestElements, ["DIB_IMAGE_CACHE"] = t.Combine("cache") };

        var run = CliHost.Create(env, t.Path, "-n", "--no-phase-cache", "-t", "tar,tgz,squashfs,raw,qcow2,docker", "--docker-target", "fmt15/fake-os:v1", "-o", "out/image", "no-os-tree");

        run.ExitCode.ShouldBe(0, run.ToString());
        var o = t.Combine("out");
        Sh($"tar -tf '{o}/image.tar'").Split('\n').ShouldContain("./no-os-tree");
        Sh($"gzip -t '{o}/image.tgz' && tar -tzf '{o}/image.tgz'").Split('\n').ShouldContain("./payload");
        Sh($"unsquashfs -l '{o}/image.squashfs'").Split('\n').ShouldContain("squashfs-root/no-os-tree");

        // The disks: one bare ext4 filesystem (no partition table, nothing to boot), as DIB writes them without a block-device element.
        using (var info = JsonDocument.Parse(Sh($"qemu-img info --output=json '{o}/image.raw'")))
        {
            info.RootElement.GetProperty("format").GetString().ShouldBe("raw");
        }

        Sh($"e2fsck -fn '{o}/image.raw'");
        Sh($"debugfs -R 'cat /no-os-tree' '{o}/image.raw' 2>/dev/null").Trim().ShouldBe("no operating system here");
        Sh($"qemu-img check '{o}/image.qcow2'").ShouldContain("No errors were found");
        Sh($"qemu-img compare '{o}/image.raw' '{o}/image.qcow2'").ShouldContain("Images are identical");

        // docker load's archive: skopeo reads it without a daemon, with the --docker-target name.
        using (var inspect = JsonDocument.Parse(Sh($"skopeo inspect docker-archive:'{o}/image.docker.tar'")))
        {
            inspect.RootElement.GetProperty("Architecture").GetString().ShouldBe("amd64");
            inspect.RootElement.GetProperty("Layers").GetArrayLength().ShouldBe(1);
        }

        Sh($"tar -xOf '{o}/image.docker.tar' manifest.json").ShouldContain("\"RepoTags\":[\"fmt15/fake-os:v1\"]");
        var rootfs = UnpackWithUmoci("docker-archive", $"{o}/image.docker.tar", t.Combine("umoci"));
        File.ReadAllText(Path.Combine(rootfs, "no-os-tree")).ShouldBe("no operating system here\n");
        CheckSbom(t.Combine("out", "image"), ["tar", "tgz", "squashfs", "raw", "qcow2", "docker.tar"], ["no-os-tree"]);
        HostFiles.MountsUnder(t.Path).ShouldBeEmpty();
    }

    [Fact]
    public void A_busybox_image_as_oci_vhdx_vdi_and_tgz_with_the_DockerTarget_property_outputs_that_clean_removes()
    {
        using var p = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>oci;docker;vhdx;vdi;tgz</ImageFormat><DockerTarget>Bad Name</DockerTarget></PropertyGroup>",
            """<Element Include="host-grub" />""");

        var bad = p.Build().Errors.ShouldHaveSingleItem();
        bad.Code.ShouldBe("DIB0401");
        bad.Text.ShouldContain("'Bad Name'");

        File.WriteAllText(p.ProjectFile, File.ReadAllText(p.ProjectFile).Replace("Bad Name", "dib/busybox:1", StringComparison.Ordinal));
        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        foreach (var (extension, format) in new[] { ("vhdx", "vhdx"), ("vdi", "vdi") })
        {
            using var info = JsonDocument.Parse(Sh($"qemu-img info --output=json '{p.OutputFile(extension)}'"));
            info.RootElement.GetProperty("format").GetString().ShouldBe(format);
            Sh($"qemu-img check '{p.OutputFile(extension)}'").ShouldContain("No errors were found");
        }

        Sh($"qemu-img compare '{p.OutputFile("vhdx")}' '{p.OutputFile("vdi")}'").ShouldContain("Images are identical");
        Sh($"gzip -t '{p.OutputFile("tgz")}'");

        // The OCI archive: skopeo reads it by its tag, umoci unpacks the busybox tree with owners and links.
        using (var inspect = JsonDocument.Parse(Sh($"skopeo inspect oci-archive:'{p.OutputFile("oci.tar")}':1")))
        {
            inspect.RootElement.GetProperty("Os").GetString().ShouldBe("linux");
        }

        var rootfs = UnpackWithUmoci("oci-archive", $"{p.OutputFile("oci.tar")}:1", p.Combine("umoci"));
        new FileInfo(Path.Combine(rootfs, "bin", "sh")).LinkTarget.ShouldBe("busybox");
        Sh($"skopeo inspect --config docker-archive:'{p.OutputFile("docker.tar")}'").ShouldContain("\"/bin/sh\"", Case.Sensitive, "a tree with a shell runs it by default");
        Sh($"tar -xOf '{p.OutputFile("docker.tar")}' manifest.json").ShouldContain("\"RepoTags\":[\"dib/busybox:1\"]");

        // podman load takes the docker archive (no daemon; storage of its own in the test's folder).
        var podman = $"podman --root '{p.Combine("podman", "root")}' --runroot '{p.Combine("podman", "run")}' --storage-driver vfs";
        Sh($"{podman} load -q -i '{p.OutputFile("docker.tar")}'").ShouldContain("dib/busybox:1");
        Sh($"{podman} image inspect --format '{{{{.Architecture}}}} {{{{.Config.Cmd}}}}' dib/busybox:1").Trim().ShouldBe("amd64 [/bin/sh]");

        CheckSbom(p.OutputFile("")[..^1], ["oci.tar", "docker.tar", "vhdx", "vdi", "tgz"], ["busybox-tree", "host-grub"]);

        p.Verb("clean").Succeeded.ShouldBeTrue();
        foreach (var extension in new[] { "oci.tar", "docker.tar", "vhdx", "vdi", "tgz", "spdx.json", "cdx.json" })
        {
            File.Exists(p.OutputFile(extension)).ShouldBeFalse($"dotnet clean removes {extension}");
        }
    }
}
