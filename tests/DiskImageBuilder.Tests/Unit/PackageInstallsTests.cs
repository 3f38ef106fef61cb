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

    private Dictionary<string, List<PackageAction>> SquashTwo(string first, string second)
    {
        _dir.Write("one/package-installs.yaml", first, false);
        _dir.Write("two/package-installs.yaml", second, false);
        return PackageInstalls.Squash([Element.Load("one", _dir.Combine("one")), Element.Load("two", _dir.Combine("two"))], [], "amd64", new Dictionary<string, string>());
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

    [Theory]
    [InlineData("DIB_FLAG=1", "1", true)]
    [InlineData("DIB_FLAG = 1", "1", true)]
    [InlineData("DIB_FLAG=1", "0", false)]
    [InlineData("DIB_FLAG!=1", "0", true)]
    [InlineData("DIB_FLAG != 1", "1", false)]
    [InlineData("DIB_FLAG = two words", "two words", true)]
    public void When_compares_a_variable_with_equals_or_not_equals(string when, string value, bool installed)
    {
        var lists = Squash($"pkg:\n  when: {when}\n", env: new() { ["DIB_FLAG"] = value });
        Lines(lists, "install.d").Contains("+pkg").ShouldBe(installed);
    }

    [Fact]
    public void A_list_of_when_statements_must_all_hold()
    {
        const string yaml = "pkg:\n  when:\n    - DIB_A = 1\n    - DIB_B != x\n";
        Lines(Squash(yaml, env: new() { ["DIB_A"] = "1", ["DIB_B"] = "y" }), "install.d").ShouldBe(["+pkg", "+extra"]);
        Lines(Squash(yaml, env: new() { ["DIB_A"] = "1", ["DIB_B"] = "x" }), "install.d").ShouldBe(["+extra"]);
        Lines(Squash(yaml, env: new() { ["DIB_A"] = "2", ["DIB_B"] = "y" }), "install.d").ShouldBe(["+extra"]);
    }

    [Fact]
    public void A_when_variable_that_is_not_set_is_DIB0070_with_the_line()
    {
        var d = Should.Throw<DibException>(() => Squash("a:\nb:\n  when: DIB_NOT_THERE = 1\n")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0070");
        d.Message.ShouldContain("DIB_NOT_THERE is not set");
        d.Location.ShouldBe(new SourceLocation(_dir.Combine("el/package-installs.yaml"), 3));
    }

    [Fact]
    public void Entries_for_a_python_version_follow_DIB_PYTHON_VERSION_and_apply_to_none_when_it_is_unset()
    {
        const string yaml = "python-dev:\n  dib_python_version: 2\npython3-dev:\n  dib_python_version: 3\nany:\n";
        Lines(Squash(yaml, env: new() { ["DIB_PYTHON_VERSION"] = "3" }), "install.d").ShouldBe(["+python3-dev", "+any", "+extra"]);
        Lines(Squash(yaml, env: new() { ["DIB_PYTHON_VERSION"] = "2" }), "install.d").ShouldBe(["+python-dev", "+any", "+extra"]);
        Lines(Squash(yaml), "install.d").ShouldBe(["+any", "+extra"]);
    }

    [Fact]
    public void Arch_and_not_arch_together_are_an_error()
    {
        var d = Should.Throw<DibException>(() => Squash("a:\n  arch: amd64\n  not-arch: arm64\n")).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0012");
        d.Message.ShouldContain("both 'arch' and 'not-arch'");
    }

    [Fact]
    public void An_install_wins_over_a_removal_in_the_same_phase_in_either_order()
    {
        Lines(SquashTwo("vim:\n", "vim:\n  uninstall: true\n"), "install.d").ShouldBe(["+vim"]);
        Lines(SquashTwo("vim:\n  uninstall: true\n", "vim:\n"), "install.d").ShouldBe(["+vim"]);
        var lists = SquashTwo("gcc:\n  build-only: true\n", "gcc:\n");
        Lines(lists, "install.d").ShouldBe(["+gcc", "+gcc"]);
        Lines(lists, "post-install.d").ShouldBeEmpty("another element installs gcc for good");
    }

    [Fact]
    public void Package_installs_json_is_read_like_the_yaml()
    {
        _dir.Write("el/package-installs.json", """{"libxml2": null, "grub2": {"phase": "pre-install.d"}, "nm": {"uninstall": true}}""", false);
        var lists = PackageInstalls.Squash([Element.Load("el", _dir.Combine("el"))], [], "amd64", new Dictionary<string, string>());
        Lines(lists, "pre-install.d").ShouldBe(["+grub2"]);
        Lines(lists, "install.d").ShouldBe(["+libxml2", "-nm"]);
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
        File.ReadAllLines(_dir.Combine("hooks/.dib/package-installs/install.d")).ShouldBe(["install a el", "uninstall b el", "install extra"]);
        File.ReadAllText(_dir.Combine("hooks/.dib/package-installs/pre-install.d")).ShouldBeEmpty();
    }
}
