using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

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
