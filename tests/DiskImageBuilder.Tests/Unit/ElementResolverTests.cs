using DiskImageBuilder.Elements;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

[Trait(Tier.Name, Tier.Unit)]
public sealed class ElementResolverTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void Element(string name, string? deps = null, string? provides = null)
    {
        Directory.CreateDirectory(_dir.Combine(name));
        if (deps is not null)
        {
            _dir.Write($"{name}/element-deps", deps);
        }

        if (provides is not null)
        {
            _dir.Write($"{name}/element-provides", provides);
        }
    }

    private ResolvedElements Resolve(params string[] names) => Tests.Resolve.Elements(_dir.Path, names);

    private DibException Fails(params string[] names) => Should.Throw<DibException>(() => Resolve(names));

    [Fact]
    public void Dependencies_are_followed_transitively_and_sorted()
    {
        Element("os", provides: "operating-system");
        Element("web", deps: "# comment\nnginx\n\n");
        Element("nginx", deps: "os");
        Resolve("web").Names.ShouldBe(["nginx", "os", "web"]);
    }

    [Fact]
    public void Provided_name_satisfies_dependencies_and_the_real_element_is_not_pulled_in()
    {
        Element("os", provides: "operating-system\nmy-kernel");
        Element("my-kernel", deps: "does-not-exist");
        Element("app", deps: "my-kernel\nos");
        var resolved = Resolve("app");
        resolved.Names.ShouldBe(["app", "os"]);
        resolved.Providers["my-kernel"].Name.ShouldBe("os");
    }

    [Fact]
    public void Provider_found_late_still_replaces_a_real_element_found_early()
    {
        // 'a' needs 'thing' before 'late' (which provides it) is discovered.
        Element("thing");
        Element("a", deps: "thing\nb");
        Element("b", deps: "late");
        Element("late", provides: "thing\noperating-system");
        Resolve("a").Names.ShouldBe(["a", "b", "late"]);
    }

    [Fact]
    public void Missing_element_names_it_its_requester_and_the_element_deps_line()
    {
        Element("os", provides: "operating-system");
        Element("web", deps: "os\n\nnginx-missing\n");
        var ex = Fails("web");
        var d = ex.Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0001");
        d.Message.ShouldContain("'nginx-missing'");
        d.Message.ShouldContain("element 'web'");
        d.Location.ShouldBe(new SourceLocation(_dir.Combine("web", "element-deps"), 3));
    }

    [Fact]
    public void Missing_requested_element_points_at_the_request()
    {
        Element("os", provides: "operating-system");
        var where = new SourceLocation("/x/image.dibproj", 7);
        var ex = Should.Throw<DibException>(() => ElementResolver.Resolve(
            new ElementRepository([_dir.Path]), [new ElementRequest("os"), new ElementRequest("nope", where)], skipBase: true));
        ex.Diagnostics.ShouldHaveSingleItem().Location.ShouldBe(where);
        ex.Diagnostics[0].Message.ShouldContain("required by the image");
    }

    [Fact]
    public void Two_elements_providing_one_name_is_an_error_naming_both()
    {
        Element("deb", provides: "operating-system");
        Element("rpm", provides: "operating-system");
        var d = Fails("deb", "rpm").Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0002");
        d.Message.ShouldContain("'deb'");
        d.Message.ShouldContain("'rpm'");
        d.Location!.File.ShouldEndWith("rpm/element-provides");
    }

    [Fact]
    public void No_operating_system_element_is_an_error()
    {
        Element("web");
        Fails("web").Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0003");
    }

    [Fact]
    public void Explicitly_requested_element_that_another_provides_is_an_error()
    {
        Element("os", provides: "operating-system\nkernel");
        Element("kernel");
        var d = Fails("os", "kernel").Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0004");
        d.Message.ShouldContain("'os'");
    }

    [Fact]
    public void Dependency_cycles_terminate()
    {
        Element("os", deps: "a", provides: "operating-system");
        Element("a", deps: "b");
        Element("b", deps: "a\nos");
        Resolve("os").Names.ShouldBe(["a", "b", "os"]);
    }

    [Fact]
    public void First_directory_on_the_path_wins()
    {
        using var second = new TempDir();
        Element("os", provides: "operating-system");
        Directory.CreateDirectory(second.Combine("os"));
        var repo = new ElementRepository([_dir.Path, second.Path]);
        repo.Find("os")!.Directory.ShouldBe(_dir.Combine("os"));
        new ElementRepository([second.Path, _dir.Path]).Find("os")!.Directory.ShouldBe(second.Combine("os"));
    }

    [Fact]
    public void Base_is_added_unless_skipped()
    {
        Element("os", provides: "operating-system");
        Element("base");
        var repo = new ElementRepository([_dir.Path]);
        ElementResolver.Resolve(repo, [new ElementRequest("os")], skipBase: false).Names.ShouldBe(["base", "os"]);
        ElementResolver.Resolve(repo, [new ElementRequest("os")], skipBase: true).Names.ShouldBe(["os"]);
    }

    [Fact]
    public void Invalid_names_are_rejected()
    {
        Fails("../etc").Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DIB0005");
    }

    [Fact]
    public void List_all_shows_each_name_once_from_the_winning_directory()
    {
        using var second = new TempDir();
        Element("os");
        Directory.CreateDirectory(second.Combine("os"));
        Directory.CreateDirectory(second.Combine("zz"));
        var all = new ElementRepository([_dir.Path, second.Path]).ListAll();
        all.Select(e => e.Name).ShouldBe(["os", "zz"]);
        all[0].Directory.ShouldBe(_dir.Combine("os"));
    }
}
