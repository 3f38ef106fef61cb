using System.Text.RegularExpressions;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The engine's folders are its stages: the root holds the contract, folders never depend on each other both ways.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed partial class EngineLayoutTests
{
    private static string Engine => Path.Combine(Repo.Root, "src", "DiskImageBuilder");

    /// <summary>What callers (the tasks, the CLI) build against: the request, the builder, its log and its errors.</summary>
    private static readonly string[] Contract =
    [
        "BuildRequest.cs", "Diagnostic.cs", "DibCodes.cs", "DibException.cs", "IBuildLog.cs", "ImageBuilder.cs",
        "ImageFileRequest.cs", "LogImportance.cs", "ServiceRequest.cs", "SourceLocation.cs", "StepTiming.cs",
    ];

    [Fact]
    public void The_root_holds_only_the_contract()
    {
        Directory.EnumerateFiles(Engine, "*.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(Contract);
    }

    [Fact]
    public void Every_file_holds_one_type_named_like_it()
    {
        var problems = SourceFiles()
            .Select(f => (File: f, Types: TopLevelType().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value).ToList()))
            .Where(f => f.Types.Count != 1 || f.Types[0] != Path.GetFileNameWithoutExtension(f.File))
            .Select(f => $"{Path.GetRelativePath(Engine, f.File)}: {string.Join(", ", f.Types)}");
        problems.ShouldBeEmpty();
    }

    [Fact]
    public void Folders_depend_on_each_other_one_way_only_and_Host_on_no_stage()
    {
        var folders = Directory.EnumerateDirectories(Engine).Select(Path.GetFileName).OfType<string>()
            .Where(d => Directory.EnumerateFiles(Path.Combine(Engine, d), "*.cs").Any()).ToHashSet();
        var edges = folders.ToDictionary(f => f, f => Directory.EnumerateFiles(Path.Combine(Engine, f), "*.cs")
            .SelectMany(file => References(File.ReadAllText(file), folders))
            .Where(d => d != f)
            .ToHashSet());
        edges["Host"].ShouldBeEmpty("host utilities depend on nothing else in the engine");
        foreach (var (from, tos) in edges)
        {
            foreach (var to in tos)
            {
                Reaches(edges, to, from, []).ShouldBeFalse($"{from} -> {to} closes a cycle");
            }
        }
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(Engine, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal));

    /// <summary>Folders a file uses: its usings and namespace-qualified names (comments and strings left out).</summary>
    private static IEnumerable<string> References(string text, HashSet<string> folders)
    {
        var code = StringOrComment().Replace(text, " ");
        return Usage().Matches(code).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).Where(folders.Contains);
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> edges, string from, string target, HashSet<string> seen) =>
        from == target || (seen.Add(from) && edges.GetValueOrDefault(from, []).Any(next => Reaches(edges, next, target, seen)));

    [GeneratedRegex(@"^(?:public|internal)\s+(?:sealed\s+|static\s+|abstract\s+|partial\s+)*(?:class|record|interface|enum|struct)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();

    [GeneratedRegex(@"using DiskImageBuilder\.(\w+);|(?<![\w.])(\w+)\.[A-Z]\w*")]
    private static partial Regex Usage();

    [GeneratedRegex("""//[^\n]*|"(?:[^"\\\n]|\\.)*"|\$"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)'""")]
    private static partial Regex StringOrComment();
}
