using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// `dotnet new dibimage` and `dotnet new dibimage-app` from the packed template package, in empty
/// folders, built against the SDK packed at the same version. Private feed, template hive and NuGet
/// cache: nothing here touches the machine's copy of DiskImageBuilder.Sdk. Needs root and NuGet (it packs).
/// </summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class TemplateTests
{
    [Fact]
    public void The_templates_make_projects_that_build_from_an_empty_folder()
    {
        using var dir = new TempDir();
        var feed = dir.Combine("feed");
        var hive = dir.Combine("hive");
        var version = $"0.0.1-test.{Guid.NewGuid():N}";
        foreach (var project in new[] { "sdk/DiskImageBuilder.Sdk.csproj", "templates/DiskImageBuilder.Templates.csproj" })
        {
            ImageProject.Sh($"dotnet pack '{Repo.Root}/{project}' -c Release -v:q -nologo -p:PackageOutputPath='{feed}' -p:MinVerVersionOverride={version}");
        }

        ImageProject.Sh($"dotnet new install '{feed}/DiskImageBuilder.Templates.{version}.nupkg' --debug:custom-hive '{hive}'");

        // Only for speed: the offline busybox tree stands in for the templates' Debian elements.
        dir.Write("Directory.Build.targets", $"""
            <Project>
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <SkipBaseElement>true</SkipBaseElement>
              </PropertyGroup>
              <ItemGroup>
                <Element Remove="@(Element)" />
                <Element Include="busybox-tree" />
                <Package Remove="@(Package)" />
              </ItemGroup>
            </Project>
            """, false);
        var environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = dir.Combine("packages"),
            // The app's runtime pack may come from the machine's cache, read only.
            ["NUGET_FALLBACK_PACKAGES"] = Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/root", ".nuget/packages"),
            ["DIB_IMAGE_CACHE"] = dir.Combine("cache"),
        };

        string New(string template, string folder, string options)
        {
            var path = dir.Combine(folder);
            Directory.CreateDirectory(path);
            ImageProject.Sh($"cd '{path}' && dotnet new {template} {options} --feed '{feed}' --debug:custom-hive '{hive}'");
            return path;
        }

        var image = New("dibimage", "firstimage", "--format tar");
        File.ReadAllText(Path.Combine(image, "global.json")).ShouldContain($"\"DiskImageBuilder.Sdk\": \"{version}\"");
        File.ReadAllText(Path.Combine(image, "nuget.config")).ShouldContain($"value=\"{feed}\"");
        File.ReadAllText(Path.Combine(image, "firstimage.dibproj")).ShouldContain("<ImageFormat>tar</ImageFormat>");
        var run = Dotnet.Build(Path.Combine(image, "firstimage.dibproj"), dir.Combine("first.binlog"), environment, null);
        run.Succeeded.ShouldBeTrue(run.Output);
        File.Exists(Path.Combine(image, "bin/Debug/firstimage.tar")).ShouldBeTrue();
        Directory.Exists(Path.Combine(dir.Combine("packages"), "diskimagebuilder.sdk", version)).ShouldBeTrue("the SDK came from the private feed");

        var withApp = New("dibimage-app", "appimage", "--format tar");
        File.Exists(Path.Combine(withApp, "appimage.App/appimage.App.csproj")).ShouldBeTrue();
        var appRun = Dotnet.Build(Path.Combine(withApp, "appimage.dibproj"), dir.Combine("app.binlog"), environment, null);
        appRun.Succeeded.ShouldBeTrue(appRun.Output);
        var tree = ImageProject.ExtractTar(Path.Combine(withApp, "bin/Debug/appimage.tar"), dir.Combine("tree"));
        File.Exists(Path.Combine(tree, "opt/app/appimage.App")).ShouldBeTrue("the app, self-contained for linux-x64");
        File.ReadAllText(Path.Combine(tree, "etc/systemd/system/app.service")).ShouldContain("ExecStart=/opt/app/appimage.App");

        // Without a feed there is no nuget.config: the SDK then comes from NuGet's usual sources.
        var plain = dir.Combine("plain");
        Directory.CreateDirectory(plain);
        ImageProject.Sh($"cd '{plain}' && dotnet new dibimage --debug:custom-hive '{hive}'");
        File.Exists(Path.Combine(plain, "nuget.config")).ShouldBeFalse();
        File.ReadAllText(Path.Combine(plain, "plain.dibproj")).ShouldContain("<ImageFormat>qcow2</ImageFormat>");
    }
}
