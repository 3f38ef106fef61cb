using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Every test class says its tier, and heavy ones run alone.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class TierTests
{
    [Fact]
    public void Every_test_class_has_a_tier_and_heavy_ones_are_in_the_heavy_collection()
    {
        var classes = typeof(TierTests).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.IsDefined(typeof(FactAttribute), inherit: true)))
            .ToList();
        classes.ShouldNotBeEmpty();
        classes.Where(t => TierOf(t) is not (Tier.Unit or Tier.Build or Tier.Heavy or Tier.Emulated)).Select(t => t.Name)
            .ShouldBeEmpty("add [Trait(Tier.Name, Tier.…)] to these classes");
        classes.Where(t => TierOf(t) is Tier.Heavy or Tier.Emulated && !t.IsDefined(typeof(CollectionAttribute), inherit: false)).Select(t => t.Name)
            .ShouldBeEmpty("heavy tests belong to [Collection(\"Heavy\")]");
    }

    private static string? TierOf(Type t) =>
        t.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == Tier.Name)
            .Select(a => (string?)a.ConstructorArguments[1].Value)
            .FirstOrDefault();

    [Fact]
    public void Test_files_hold_one_type_named_like_them_in_the_folder_of_their_tier()
    {
        var root = Path.Combine(Repo.Root, "tests", "DiskImageBuilder.Tests");
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(root, file);
            var types = System.Text.RegularExpressions.Regex.Matches(
                File.ReadAllText(file), @"^(?:public|internal)\s+(?:sealed\s+|static\s+|abstract\s+|partial\s+)*(?:class|record|interface|enum|struct)\s+(\w+)", System.Text.RegularExpressions.RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value).ToList();
            if (types.Count != 1 || types[0] != Path.GetFileNameWithoutExtension(file))
            {
                problems.Add($"{relative}: {string.Join(", ", types)}");
                continue;
            }

            var type = typeof(TierTests).Assembly.GetTypes().SingleOrDefault(t => t.Name == types[0] && t.DeclaringType is null);
            var folder = Path.GetDirectoryName(relative);
            var expected = type is not null && TierOf(type) is { } tier ? tier : "Support";
            if (folder != expected)
            {
                problems.Add($"{relative}: belongs in {expected}/");
            }
        }

        problems.ShouldBeEmpty();
    }
}
