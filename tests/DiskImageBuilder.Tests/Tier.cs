using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Test tiers, a trait on every test class, so a run can choose by speed and needs:
/// `dotnet test --filter Tier=Unit` (eng/test.sh --fast) runs in seconds without root.
/// </summary>
internal static class Tier
{
    public const string Name = "Tier";

    /// <summary>In-process, no root, no image build: seconds.</summary>
    public const string Unit = "Unit";

    /// <summary>Builds small images on the offline busybox tree: root, namespaces, minutes.</summary>
    public const string Build = "Build";

    /// <summary>Real Debian trees from the mirror and qemu boots: root, the mirror, many minutes. Runs alone (the Heavy collection).</summary>
    public const string Heavy = "Heavy";
}

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
        classes.Where(t => TierOf(t) is not (Tier.Unit or Tier.Build or Tier.Heavy)).Select(t => t.Name)
            .ShouldBeEmpty("add [Trait(Tier.Name, Tier.…)] to these classes");
        classes.Where(t => TierOf(t) == Tier.Heavy && !t.IsDefined(typeof(CollectionAttribute), inherit: false)).Select(t => t.Name)
            .ShouldBeEmpty("heavy tests belong to [Collection(\"Heavy\")]");
    }

    private static string? TierOf(Type t) =>
        t.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == Tier.Name)
            .Select(a => (string?)a.ConstructorArguments[1].Value)
            .FirstOrDefault();
}
