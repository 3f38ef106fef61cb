namespace DiskImageBuilder.Tests;

/// <summary>
/// A copy of samples/NAME built as a user builds it: the SDK packed into a private feed and
/// resolved by Sdk="DiskImageBuilder.Sdk", with a private NuGet cache (so no stale SDK).
/// Directory.Build.props/targets beside the copy may add test-only elements, the MSBuild way.
/// </summary>
public sealed class PackedSample : IDisposable
{
    /// <summary>The version the SDK is packed as, and the one global.json asks for.</summary>
    private const string Version = "0.1.0-dev";

    private static readonly Lazy<string> Feed = new(PackOnce);
    private readonly TempDir _dir = new();

    public PackedSample(string name, string directoryBuildProps = "", string directoryBuildTargets = "")
    {
        Name = name;
        ImageProject.Sh($"cp -a '{Repo.Root}/samples/{name}' '{_dir.Path}/'");
        _dir.Write("global.json", $$"""{ "msbuild-sdks": { "DiskImageBuilder.Sdk": "{{Version}}" } }""", false);
        _dir.Write("nuget.config", $"""
            <configuration>
              <packageSources><clear /><add key="feed" value="{Feed.Value}" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources>
            </configuration>
            """, false);
        _dir.Write("Directory.Build.props", $"<Project>{directoryBuildProps}</Project>", false);
        _dir.Write("Directory.Build.targets", $"<Project>{directoryBuildTargets}</Project>", false);
    }

    /// <summary>The SDK package, packed on first use.</summary>
    public static string Package => Path.Combine(Feed.Value, $"DiskImageBuilder.Sdk.{Version}.nupkg");

    public string Name { get; }

    public string Dir => _dir.Path;

    public string Output(string extension) => _dir.Combine(Name, "bin", "Debug", $"{Name}.{extension}");

    public BuildRun Build(params string[] args) => Dotnet.Build(
        _dir.Combine(Name, $"{Name}.dibproj"),
        _dir.Combine($"build-{Guid.NewGuid():N}.binlog"),
        new Dictionary<string, string> { ["NUGET_PACKAGES"] = _dir.Combine("packages") },
        null,
        args);

    public void Dispose() => _dir.Dispose();

    // One pack per test run; the feed folder outlives the tests in /tmp only.
    private static string PackOnce()
    {
        var feed = Directory.CreateTempSubdirectory("dib-feed-").FullName;
        ImageProject.Sh($"dotnet pack '{Repo.Root}/sdk/DiskImageBuilder.Sdk.csproj' -c Release -v:q -nologo -p:PackageOutputPath='{feed}' -p:MinVerVersionOverride={Version}");
        return feed;
    }
}
