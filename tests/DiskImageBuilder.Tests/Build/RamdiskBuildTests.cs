using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// ImageType=ramdisk on the busybox tree: the engine's side of a ramdisk build (outputs, clean,
/// incremental builds, the checks before and during the build). The real ramdisk is built and
/// booted by <see cref="RamdiskBootTests"/>.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class RamdiskBuildTests
{
    // A ramdisk element of the test's own: a kernel file in root.d (so the tree has one), and
    // cleanup.d writing IMAGE_NAME.kernel and .initramfs as ramdisk-base does.
    private static ImageProject Project(bool writesOutputs = true, string ramdiskElement = "test-ramdisk")
    {
        var p = ImageProject.Busybox($"""
            <PropertyGroup>
              <ImageType>ramdisk</ImageType>
              <RamdiskElement>{ramdiskElement}</RamdiskElement>
            </PropertyGroup>
            """);
        p.Write("elements/test-ramdisk/root.d/10-kernel", "#!/bin/sh\nset -eu\nmkdir -p \"$TARGET_ROOT/boot\"\necho kernel > \"$TARGET_ROOT/boot/vmlinuz-0-test\"\n", executable: true);
        p.Write("elements/test-ramdisk/init.d/20-hello", "echo hello from init.d\n");
        p.Write("elements/test-ramdisk/binary-deps.d/test-ramdisk", "busybox\nsh\n");
        if (writesOutputs)
        {
            p.Write("elements/test-ramdisk/cleanup.d/99-out", "#!/bin/sh\nset -eu\ncp \"$TARGET_ROOT/boot/vmlinuz-0-test\" \"$IMAGE_NAME.kernel\"\necho initramfs > \"$IMAGE_NAME.initramfs\"\n", executable: true);
        }

        return p;
    }

    [Fact]
    public void A_ramdisk_build_outputs_IMAGE_kernel_and_IMAGE_initramfs_and_no_disk_format_then_clean_removes_them()
    {
        using var p = Project();
        var run = p.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        File.ReadAllText(p.OutputFile("kernel")).ShouldBe("kernel\n");
        File.Exists(p.OutputFile("initramfs")).ShouldBeTrue();
        File.Exists(p.OutputFile("tar")).ShouldBeFalse("a ramdisk build writes no image format");
        run.Messages.ShouldContain(m => m.Contains("image.kernel", StringComparison.Ordinal) && m.Contains("image.initramfs", StringComparison.Ordinal));

        p.Build().Ran("CreateImage").ShouldBeFalse("nothing changed: the two files are the outputs MSBuild compares");
        File.Delete(p.OutputFile("initramfs"));
        p.Build().Ran("CreateImage").ShouldBeTrue("an output is missing");

        p.Verb("clean").Succeeded.ShouldBeTrue();
        File.Exists(p.OutputFile("kernel")).ShouldBeFalse();
        File.Exists(p.OutputFile("initramfs")).ShouldBeFalse();
    }

    [Fact]
    public void A_ramdisk_element_that_writes_no_kernel_and_initramfs_is_DIB0500_and_old_outputs_are_not_kept()
    {
        using var p = Project(writesOutputs: false);
        Directory.CreateDirectory(p.Combine("bin", "Debug"));
        File.WriteAllText(p.OutputFile("kernel"), "old");
        File.WriteAllText(p.OutputFile("initramfs"), "old");
        var run = p.Build();
        run.Succeeded.ShouldBeFalse(run.Output);
        run.Errors.ShouldContain(e => e.Code == "DIB0500" && e.Text.Contains("image.kernel and image.initramfs", StringComparison.Ordinal) && e.Text.Contains("'test-ramdisk'", StringComparison.Ordinal), run.Output);
        File.Exists(p.OutputFile("kernel")).ShouldBeFalse("an old output never passes for a new one");
    }

    [Fact]
    public void A_program_in_binary_deps_that_the_image_lacks_is_DIB0502_naming_element_file_and_line_before_post_install()
    {
        using var p = Project();
        p.Write("elements/test-ramdisk/binary-deps.d/more", "busybox\nlsblk no-such-tool\n");
        p.Write("elements/test-ramdisk/post-install.d/10-mark", "#!/bin/sh\ntouch /post-install-ran\n", executable: true);
        var run = p.Build();
        run.Succeeded.ShouldBeFalse(run.Output);
        var errors = run.Errors.Where(e => e.Code == "DIB0502").ToList();
        errors.Select(e => e.Text).ShouldBe(
            [
                "Element 'test-ramdisk': binary-deps.d/more names 'lsblk', which is not in the image (looked in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin). Install it (package-installs.yaml of the element) or remove it from the list.",
                "Element 'test-ramdisk': binary-deps.d/more names 'no-such-tool', which is not in the image (looked in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin). Install it (package-installs.yaml of the element) or remove it from the list.",
            ],
            ignoreOrder: false,
            run.Output);
        errors[0].File.ShouldBe(p.Combine("elements/test-ramdisk/binary-deps.d/more"));
        errors[0].LineNumber.ShouldBe(2);
        run.Messages.ShouldNotContain(m => m.Contains("post-install.d/10-mark", StringComparison.Ordinal), "post-install.d did not start");
    }

    [Fact]
    public void An_init_part_that_is_no_shell_script_is_DIB0503_with_its_line_before_any_work()
    {
        using var p = Project();
        p.Write("elements/test-ramdisk/init.d/30-broken", "echo fine\nif true; then\n  echo never closed\n");
        var run = p.Build();
        run.Succeeded.ShouldBeFalse(run.Output);
        var error = run.Errors.Single(e => e.Code == "DIB0503");
        error.Text.ShouldStartWith("Element 'test-ramdisk': init.d/30-broken is not a valid shell script");
        error.File.ShouldBe(p.Combine("elements/test-ramdisk/init.d/30-broken"));
        error.LineNumber.ShouldBeGreaterThan(1);
        run.Messages.ShouldNotContain(m => m.StartsWith("DiskImageBuilder: root.d:", StringComparison.Ordinal), "no phase ran");
    }

    [Fact]
    public void A_ramdisk_of_a_tree_without_kernel_is_DIB0212()
    {
        using var p = Project();
        File.Delete(p.Combine("elements/test-ramdisk/root.d/10-kernel"));
        var run = p.Build();
        run.Succeeded.ShouldBeFalse(run.Output);
        run.Errors.ShouldContain(e => e.Code == "DIB0212" && e.Text.Contains("nothing to boot the ramdisk with", StringComparison.Ordinal), run.Output);
    }

    [Fact]
    public void ImageType_other_than_disk_or_ramdisk_is_DIB0501_on_the_property()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageType>initrd</ImageType></PropertyGroup>");
        var run = p.Build();
        run.Succeeded.ShouldBeFalse(run.Output);
        var error = run.Errors.Single(e => e.Code == "DIB0501");
        error.Text.ShouldContain("Invalid ImageType 'initrd'");
        error.File.ShouldBe(p.ProjectFile);
    }
}
