using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>element-info against element trees made here: the SDK's resolver and its DIB#### errors.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class ElementInfoTests
{
    private static Dictionary<string, string> Path(params string[] dirs) => new() { ["ELEMENTS_PATH"] = string.Join(':', dirs) };

    [Fact]
    public void Expand_dependencies_follows_deps_and_provides_sorted_without_base()
    {
        using var t = new TempDir();
        t.Write("e/app/element-deps", "lib\nvirtual-db\n");
        t.Write("e/lib/element-deps", "# comment\napp\n");
        t.Write("e/os/element-provides", "operating-system\n");
        t.Write("e/postgres/element-provides", "virtual-db\n");
        t.Write("e/virtual-db/element-deps", "should-not-be-needed\n");

        var run = CliHost.ElementInfo(Path(t.Combine("e")), "--expand-dependencies", "app", "os", "postgres");

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["app", "lib", "os", "postgres"]);
        CliHost.ElementInfo(Path(t.Combine("e")), "-d", "os").Out.Trim().ShouldBe("os", "base is not added");
    }

    [Fact]
    public void Missing_element_points_at_the_element_deps_line()
    {
        using var t = new TempDir();
        var deps = t.Write("e/app/element-deps", "os\nghost\n");
        t.Write("e/os/element-provides", "operating-system\n");

        var run = CliHost.ElementInfo(Path(t.Combine("e")), "-d", "app");

        run.ExitCode.ShouldBe(1);
        run.Error.ShouldStartWith($"element-info: error DIB0001: Element 'ghost' (required by element 'app') was not found");
        run.Error.TrimEnd().ShouldEndWith($"({deps}:2)");
    }

    [Fact]
    public void Two_providers_of_one_name_conflict()
    {
        using var t = new TempDir();
        t.Write("e/os-a/element-provides", "operating-system\n");
        t.Write("e/os-b/element-provides", "operating-system\n");
        var run = CliHost.ElementInfo(Path(t.Combine("e")), "-d", "os-a", "os-b");
        run.ExitCode.ShouldBe(1);
        run.Error.ShouldContain("element-info: error DIB0002: Elements 'os-a'");
    }

    [Fact]
    public void Like_DIB_an_operating_system_element_is_required()
    {
        using var t = new TempDir();
        t.Write("e/app/README.md", "no deps\n");
        var run = CliHost.ElementInfo(Path(t.Combine("e")), "-d", "app");
        run.ExitCode.ShouldBe(1);
        run.Error.ShouldStartWith("element-info: error DIB0003: No element provides 'operating-system'");
    }

    [Fact]
    public void Requesting_a_provided_element_is_an_error()
    {
        using var t = new TempDir();
        t.Write("e/os/element-provides", "operating-system\nvirtual-db\n");
        t.Write("e/virtual-db/README.md", "x\n");
        CliHost.ElementInfo(Path(t.Combine("e")), "-d", "os", "virtual-db").Error.ShouldContain("error DIB0004:");
    }

    [Fact]
    public void List_shows_each_name_once_with_the_first_directory_on_the_path_then_the_library()
    {
        using var t = new TempDir();
        t.Write("first/shared/README.md", "x\n");
        t.Write("second/shared/README.md", "x\n");
        t.Write("second/only-second/README.md", "x\n");

        var run = CliHost.ElementInfo(Path(t.Combine("first"), t.Combine("second")), "--list");

        run.ExitCode.ShouldBe(0, run.ToString());
        var rows = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        rows.ShouldContain(r => r[0] == "shared" && r[1] == t.Combine("first", "shared"));
        rows.ShouldContain(r => r[0] == "only-second" && r[1] == t.Combine("second", "only-second"));
        rows.ShouldContain(r => r[0] == "debian-minimal" && r[1] == System.IO.Path.Combine(Repo.Elements, "debian-minimal"));
        rows.Count(r => r[0] == "shared").ShouldBe(1);
        rows.Select(r => r[0]).ShouldBeInOrder(SortDirection.Ascending, StringComparer.Ordinal);
    }

    [Fact]
    public void Env_prints_what_environment_d_exports()
    {
        using var t = new TempDir();
        t.Write("e/envy/environment.d/10-first", "export DIB_COLOUR=${DIB_COLOUR:-blue}\nexport PATH=$PATH\nLOCAL_ONLY=1\n");
        t.Write("e/envy/environment.d/20-second", "export DIB_SHAPE=\"round and $DIB_COLOUR\"\n");

        var run = CliHost.ElementInfo(Path(t.Combine("e")), "--env", "envy");

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["DIB_COLOUR=blue", "DIB_SHAPE=round and blue"]);
        CliHost.ElementInfo(Path(t.Combine("e")), "--env", "nope").Error.ShouldStartWith("element-info: error DIB0001:");
    }

    [Theory]
    [InlineData("give exactly one of --list, --expand-dependencies or --env")]
    [InlineData("unrecognized option '--expanded'", "--expanded", "x")]
    [InlineData("give exactly one of", "--list", "-d", "x")]
    public void Bad_usage_is_DIB0023_and_exit_1(string text, params string[] args)
    {
        var run = CliHost.ElementInfo(Path(), args);
        run.ExitCode.ShouldBe(1);
        run.Error.ShouldStartWith("element-info: error DIB0023: ");
        run.Error.ShouldContain(text);
    }
}
