using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Elements;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Where the configuration comes from, first found wins: BlockDeviceConfig, DIB_BLOCK_DEVICE_CONFIG, an element's YAML.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class BlockDeviceConfigSourceTests
{
    private const string Yaml = "- local_loop: {name: image0}\n";

    private static BuildRequest Request(TempDir dir, string? property = null, string? env = null) => new()
    {
        ImageName = "image",
        Elements = [],
        OutputDirectory = dir.Path,
        WorkDirectory = dir.Path,
        ProjectFile = dir.Combine("image.dibproj"),
        BlockDeviceConfig = property,
        Environment = env is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [BlockDeviceConfigSource.Variable] = env },
    };

    [Fact]
    public void The_property_comes_first_as_a_file_beside_the_project_or_as_YAML()
    {
        using var dir = new TempDir();
        dir.Write("layouts/disk.yaml", Yaml);
        BlockDeviceConfigSource.Find(Request(dir, "layouts/disk.yaml", "- local_loop: {name: other}"), []).ShouldBe((Yaml, dir.Combine("layouts", "disk.yaml")));
        BlockDeviceConfigSource.Find(Request(dir, "- local_loop: {name: inline}"), [])!.Value.Source.ShouldBe($"{dir.Combine("image.dibproj")} (BlockDeviceConfig)");
    }

    [Fact]
    public void DIB_BLOCK_DEVICE_CONFIG_is_file_URL_or_YAML_as_in_DIB_then_an_element_s_yaml()
    {
        using var dir = new TempDir();
        var file = dir.Write("env.yaml", Yaml);
        BlockDeviceConfigSource.Find(Request(dir, env: "file://" + file), []).ShouldBe((Yaml, file));
        BlockDeviceConfigSource.Find(Request(dir, env: Yaml), []).ShouldBe((Yaml, "DIB_BLOCK_DEVICE_CONFIG"));

        var plain = Element.Load("plain", Directory.CreateDirectory(dir.Combine("elements", "plain")).FullName);
        dir.Write("elements/layout/block-device-default.yaml", "- local_loop: {name: default}\n");
        dir.Write("elements/layout/block-device-amd64.yaml", Yaml);
        var layout = Element.Load("layout", dir.Combine("elements", "layout"));
        BlockDeviceConfigSource.Find(Request(dir), [plain, layout]).ShouldBe((Yaml, dir.Combine("elements", "layout", "block-device-amd64.yaml")));
        BlockDeviceConfigSource.Find(Request(dir), [plain]).ShouldBeNull();
    }

    [Fact]
    public void A_missing_file_is_DIB0231_naming_it()
    {
        using var dir = new TempDir();
        var d = Should.Throw<DibException>(() => BlockDeviceConfigSource.Find(Request(dir, env: "file:///nonexistent/layout.yaml"), [])).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0231");
        d.Message.ShouldContain("/nonexistent/layout.yaml");
    }
}
