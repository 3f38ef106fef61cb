using System.IO.Compression;
using DiskImageBuilder.Elements;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The element library as the SDK package ships it.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class PackedElementsTests
{
    [Fact]
    public void The_package_records_the_checkouts_mode_of_every_element_file()
    {
        using var package = ZipFile.OpenRead(PackedSample.Package);
        var modesEntry = package.GetEntry($"elements/{ElementFileModes.FileName}");
        modesEntry.ShouldNotBeNull("NuGet extracts every file 0744: without the modes file the checkout's modes are lost");
        using var reader = new StreamReader(modesEntry.Open());
        var modes = ElementFileModes.Parse(reader.ReadToEnd().Split('\n'));

        var files = package.Entries
            .Where(e => e.FullName.StartsWith("elements/", StringComparison.Ordinal) && e.Name.Length > 0 && e != modesEntry)
            .Select(e => e.FullName["elements/".Length..])
            .ToList();
        files.Count.ShouldBeGreaterThan(100);
        foreach (var file in files)
        {
            var checkout = File.GetUnixFileMode(Path.Combine(Repo.Root, "elements", file)) & (UnixFileMode)0b111_111_111;
            modes.TryGetValue(file, out var recorded).ShouldBeTrue($"{file} has no mode in {ElementFileModes.FileName}");
            recorded.ShouldBe(checkout, file);
        }

        modes.Values.ShouldContain((UnixFileMode)0b110_100_100);
        modes.Values.ShouldContain((UnixFileMode)0b111_101_101);
    }
}
