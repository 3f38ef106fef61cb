using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>disk-image-get-kernel on disk images built here: the kernel and initrd read out without mounting.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class GetKernelTests
{
    [Theory]
    [InlineData("qcow2", "bios")]
    [InlineData("raw", "hybrid")]
    public void The_newest_kernel_and_its_initrd_come_out_of_the_image_byte_for_byte(string format, string bootMode)
    {
        // host-grub's stand-in kernel (0.0-test) is older than the pair this element writes.
        using var p = ImageProject.Busybox($"<PropertyGroup><ImageFormat>{format}</ImageFormat><BootMode>{bootMode}</BootMode></PropertyGroup>", """<Element Include="host-grub" /><Element Include="kernels" />""");
        p.Write("elements/kernels/root.d/60-kernels", """
            #!/bin/sh
            set -eu
            head -c 300000 /dev/urandom > "$TARGET_ROOT/boot/vmlinuz-6.1.0-10-amd64"
            head -c 200000 /dev/urandom > "$TARGET_ROOT/boot/initrd.img-6.1.0-10-amd64"
            echo older > "$TARGET_ROOT/boot/vmlinuz-6.1.0-9-amd64"
            echo older > "$TARGET_ROOT/boot/initrd.img-6.1.0-9-amd64"
            cp "$TARGET_ROOT/boot/vmlinuz-6.1.0-10-amd64" "$TARGET_ROOT/boot/initrd.img-6.1.0-10-amd64" "$(dirname "$IMAGE_NAME")/.."
            """.Replace("\r", string.Empty, StringComparison.Ordinal) + "\n", executable: true);
        var run = p.Build();
        run.Succeeded.ShouldBeTrue(run.Output);

        using var outDir = new TempDir();
        var get = CliHost.GetKernel(p.Dir, "-i", p.OutputFile(format), "-d", outDir.Path, "-o", "node");
        get.ExitCode.ShouldBe(0, get.ToString());
        get.Out.ShouldStartWith("DEPRECATED: Please consider using the `baremetal` element.");
        File.ReadAllBytes(outDir.Combine("node-vmlinuz")).ShouldBe(File.ReadAllBytes(p.Combine("bin", "vmlinuz-6.1.0-10-amd64")));
        File.ReadAllBytes(outDir.Combine("node-initrd")).ShouldBe(File.ReadAllBytes(p.Combine("bin", "initrd.img-6.1.0-10-amd64")));
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void An_image_without_a_kernel_and_initrd_pair_is_DIB0504()
    {
        using var p = ImageProject.Busybox("<PropertyGroup><ImageFormat>raw</ImageFormat></PropertyGroup>", """<Element Include="host-grub" />""");
        p.Build().Succeeded.ShouldBeTrue();
        var get = CliHost.GetKernel(p.Dir, "-i", p.OutputFile("raw"), "-d", p.Dir);
        get.ExitCode.ShouldBe(1);
        get.Error.ShouldContain("error DIB0504: ");
        get.Error.ShouldContain("has the kernel /boot/vmlinuz-0.0-test but no initial ramdisk for version 0.0-test");

        var missing = CliHost.GetKernel(p.Dir, "-i", p.Combine("nothing.qcow2"));
        missing.ExitCode.ShouldBe(1);
        missing.Error.ShouldContain("does not exist");
        CliHost.GetKernel(p.Dir).Error.ShouldContain("give the image to read with -i IMAGE");
    }
}
