using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The docker format's repository and tag (DIB's --docker-target), and the formats parsed by name.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class ContainerTargetTests
{
    [Theory]
    [InlineData(null, "web", "web", "latest")]
    [InlineData("", "My Image", "my-image", "latest")]
    [InlineData("fmt/test", "x", "fmt/test", "latest")]
    [InlineData("fmt/test:1.2", "x", "fmt/test", "1.2")]
    [InlineData("localhost:5000/team/app", "x", "localhost:5000/team/app", "latest")]
    [InlineData("registry.example:5000/app:v_1", "x", "registry.example:5000/app", "v_1")]
    public void Target_is_repository_and_tag_defaulting_to_the_image_name_and_latest(string? target, string imageName, string repository, string tag) =>
        ContainerImage.Target(target, imageName, null).ShouldBe((repository, tag));

    [Theory]
    [InlineData("Upper/Case")]
    [InlineData("app:")]
    [InlineData("app:-tag")]
    [InlineData("a//b")]
    [InlineData("app:tag with space")]
    public void A_target_docker_would_refuse_is_DIB0401_at_its_property(string target)
    {
        var where = new SourceLocation("/p.dibproj", 3);
        var d = Should.Throw<DibException>(() => ContainerImage.Target(target, "image", where)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0401");
        d.Message.ShouldContain($"'{target}'");
        d.Location.ShouldBe(where);
    }

    [Fact]
    public void Aci_is_DIB0400_saying_DIB_deprecated_it_and_read_only_qemu_formats_are_DIB0024()
    {
        var aci = Should.Throw<DibException>(() => ImageFormats.Parse(["tar,aci"], null)).Diagnostics.ShouldHaveSingleItem();
        aci.Code.ShouldBe("DIB0400");
        aci.Message.ShouldContain("deprecated");
        aci.Message.ShouldContain("'oci'");
        Should.Throw<DibException>(() => ImageFormats.Parse(["cloop"], null)).Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0024");
    }

    [Fact]
    public void Every_format_qemu_img_writes_is_a_disk_format_by_its_name_and_tree_formats_have_their_extensions()
    {
        var formats = ImageFormats.Parse(["vhdx;vdi;qed;qcow;parallels;tgz;squashfs;docker;oci"], null);
        formats.Where(f => f.IsDisk).Select(f => f.QemuFormat).ShouldBe(["vhdx", "vdi", "qed", "qcow", "parallels"]);
        formats.Where(f => !f.IsDisk).Select(f => f.Extension).ShouldBe(["tgz", "squashfs", "docker.tar", "oci.tar"]);
    }
}
