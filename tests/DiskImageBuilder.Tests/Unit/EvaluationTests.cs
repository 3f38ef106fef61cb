using DiskImageBuilder.Output;
using Microsoft.Build.Evaluation;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>In-process evaluation of the SDK files (MSBuild from the .NET SDK through the Locator).</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class EvaluationTests
{
    private static Project Evaluate(ImageProject p, Dictionary<string, string>? globals = null)
    {
        using var collection = new ProjectCollection(globals ?? []);
        return collection.LoadProject(p.ProjectFile);
    }

    [Fact]
    public void Defaults_follow_DIB_and_MSBuild_conventions()
    {
        using var p = new ImageProject("""<ItemGroup><Element Include="debian-minimal" /></ItemGroup>""", name: "golden");
        var project = Evaluate(p);
        project.GetPropertyValue("UsingDiskImageBuilderSdk").ShouldBe("true");
        project.GetPropertyValue("ImageName").ShouldBe("golden");
        project.GetPropertyValue("ImageFormat").ShouldBe("qcow2");
        project.GetPropertyValue("BootMode").ShouldBe(string.Empty, "the block-device element chooses; bios without one");
        project.GetPropertyValue("ImageCompress").ShouldBe("true");
        project.GetPropertyValue("Architecture").ShouldBe("amd64");
        project.GetPropertyValue("SkipBaseElement").ShouldBe("false");
        project.GetPropertyValue("ImageOutputDirectory").ShouldBe(p.Combine("bin", "Debug") + "/");
        project.GetPropertyValue("ImageWorkDirectory").ShouldBe(p.Combine("obj", "Debug", "dib", "work") + "/");
        project.GetPropertyValue("CoreBuildDependsOn").ShouldContain("CreateImage");
        project.GetItems("Element").Select(i => i.EvaluatedInclude).ShouldBe(["debian-minimal"]);
    }

    [Fact]
    public void User_values_win_over_defaults()
    {
        using var p = new ImageProject("""
            <PropertyGroup>
              <ImageName>web</ImageName>
              <ImageFormat>tar</ImageFormat>
              <Architecture>arm64</Architecture>
              <ImageOutputDirectory>/srv/images/</ImageOutputDirectory>
            </PropertyGroup>
            """);
        var project = Evaluate(p, new() { ["Configuration"] = "Release", ["SkipBaseElement"] = "true" });
        project.GetPropertyValue("ImageName").ShouldBe("web");
        project.GetPropertyValue("Architecture").ShouldBe("arm64");
        project.GetPropertyValue("ImageOutputDirectory").ShouldBe("/srv/images/");
        project.GetPropertyValue("SkipBaseElement").ShouldBe("true");
        project.GetPropertyValue("ImageWorkDirectory").ShouldBe(p.Combine("obj", "Release", "dib", "work") + "/");
    }

    [Fact]
    public void An_image_project_imports_no_workload_manifests_unless_asked_to()
    {
        static IEnumerable<string> WorkloadImports(Project project) =>
            project.Imports.Select(i => Path.GetFileName(i.ImportedProject.FullPath))
                .Where(f => f is "WorkloadManifest.targets" or "AutoImport.props" or "Microsoft.NET.Sdk.ImportWorkloads.targets");

        using var p = new ImageProject("""<ItemGroup><Element Include="debian-minimal" /></ItemGroup>""");
        var project = Evaluate(p);
        project.GetPropertyValue("MSBuildEnableWorkloadResolver").ShouldBe("false");
        WorkloadImports(project).ShouldBeEmpty("an image needs no .NET workload, and evaluating their manifests slows every build");

        // The workload imports are one property away, as in any SDK project.
        WorkloadImports(Evaluate(p, new() { ["MSBuildEnableWorkloadResolver"] = "true" })).ShouldNotBeEmpty();
    }

    [Fact]
    public void The_projects_own_elements_folder_is_searched_after_ElementsPath()
    {
        using var p = new ImageProject("""<PropertyGroup><ElementsPath>/opt/a;/opt/b</ElementsPath></PropertyGroup>""");
        Directory.CreateDirectory(p.Combine("elements"));
        var project = Evaluate(p);
        project.GetItems("_DibElementsPath").Select(i => i.EvaluatedInclude).ShouldBe(["/opt/a", "/opt/b", p.Combine("elements")]);
    }

    [Fact]
    public void GetTargetPath_returns_the_image_and_ResolveImageElements_the_elements()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="extra" />""");
        p.Write("elements/extra/element-deps", "busybox-tree\n", false);
        using var collection = new ProjectCollection();
        var instance = collection.LoadProject(p.ProjectFile).CreateProjectInstance();

        instance.Build(["GetTargetPath", "ResolveImageElements"], null, out var outputs).ShouldBeTrue();

        outputs["GetTargetPath"].Items.Select(i => i.ItemSpec).ShouldBe([p.OutputFile()]);
        var elements = outputs["ResolveImageElements"].Items;
        elements.Select(i => i.ItemSpec).ShouldBe(["busybox-tree", "extra"]);
        elements[1].GetMetadata("ElementDir").ShouldBe(p.Combine("elements", "extra") + "/");
        File.Exists(p.OutputFile()).ShouldBeFalse("resolving builds no image");
    }
}
