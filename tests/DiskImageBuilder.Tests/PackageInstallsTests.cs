using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

[Trait(Tier.Name, Tier.Unit)]
public sealed class PackageInstallsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, List<PackageAction>> Squash(string yaml, string arch = "amd64", Dictionary<string, string>? env = null)
    {
        _dir.Write("el/package-installs.yaml", yaml, false);
        return PackageInstalls.Squash([Element.Load("el", _dir.Combine("el"))], ["extra"], arch, env ?? []);
    }

    private static string[] Lines(Dictionary<string, List<PackageAction>> lists, string phase) =>
        [.. lists[phase].Select(a => (a.Uninstall ? "-" : "+") + a.Package)];

    [Fact]
    public void Phases_uninstall_and_image_packages_land_in_their_lists()
    {
        var lists = Squash("""
            curl:
            vim:
              phase: pre-install.d
            nano:
              uninstall: true
              phase: post-install.d
            gcc:
              build-only: true
            """);
        Lines(lists, "pre-install.d").ShouldBe(["+vim"]);
        Lines(lists, "install.d").ShouldBe(["+curl", "+gcc", "+extra"]);
        Lines(lists, "post-install.d").ShouldBe(["-nano", "-gcc"]);
    }

    [Fact]
    public void Architecture_filters_apply()
    {
        const string yaml = "grub-pc:\n  arch: amd64, i386\nshim:\n  not-arch: arm64\n";
        Lines(Squash(yaml, "amd64"), "install.d").ShouldBe(["+grub-pc", "+shim", "+extra"]);
        Lines(Squash(yaml, "arm64"), "install.d").ShouldBe(["+extra"]);
    }

    [Fact]
    public void Install_type_selects_entries()
    {
        const string yaml = "from-pkg:\n  installtype: package\nfrom-src:\n  installtype: source\n";
        Lines(Squash(yaml), "install.d").ShouldBe(["+from-src", "+extra"]);
        Lines(Squash(yaml, env: new() { ["DIB_INSTALLTYPE_el"] = "package" }), "install.d").ShouldBe(["+from-pkg", "+extra"]);
    }

    [Fact]
    public void A_list_of_option_maps_is_accepted()
    {
        Lines(Squash("tool:\n  - phase: pre-install.d\n  - phase: post-install.d\n    uninstall: true\n"), "post-install.d").ShouldBe(["-tool"]);
    }

    [Theory]
    [InlineData("a:\n  phase: cleanup.d\n", 2, "cleanup.d")]
    [InlineData("a:\n  colour: red\n", 2, "colour")]
    [InlineData("a: [unclosed\n", 2, "YAML")]
    [InlineData("- just\n- a list\n", 1, "mapping")]
    public void Bad_files_are_errors_with_the_line(string yaml, int line, string says)
    {
        var d = Should.Throw<DibException>(() => Squash(yaml)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0012");
        d.Message.ShouldContain(says);
        d.Location.ShouldBe(new SourceLocation(_dir.Combine("el/package-installs.yaml"), line));
    }

    [Fact]
    public void Written_lists_have_one_action_per_line()
    {
        var lists = Squash("a:\nb:\n  uninstall: true\n");
        PackageInstalls.Write(_dir.Combine("hooks"), lists);
        File.ReadAllLines(_dir.Combine("hooks/.dib/package-installs/install.d")).ShouldBe(["install a", "uninstall b", "install extra"]);
        File.ReadAllText(_dir.Combine("hooks/.dib/package-installs/pre-install.d")).ShouldBeEmpty();
    }
}
