using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>An image composed alongside the app it ships, in one solution, as a .NET team lays it out. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class SolutionTests
{
    [Fact]
    public void A_solution_with_an_app_its_library_an_image_and_a_test_project_builds_every_time()
    {
        using var p = ImageProject.Busybox("""<ItemGroup><ProjectReference Include="hello/hello.csproj" ImagePath="/opt/hello" /></ItemGroup>""");
        p.Write("greet/greet.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
            </Project>
            """, false);
        var greeting = p.Write("greet/Greeting.cs", "namespace Greet; public static class Greeting { public static string Text => \"hello\"; }\n", false);
        p.Write("hello/hello.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
              <ItemGroup><ProjectReference Include="../greet/greet.csproj" /></ItemGroup>
            </Project>
            """, false);
        p.Write("hello/Program.cs", "System.Console.WriteLine(Greet.Greeting.Text);\n", false);
        p.Write("tests/hello.tests.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><IsTestProject>true</IsTestProject></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
                <PackageReference Include="xunit" Version="2.9.3" />
                <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
                <ProjectReference Include="../hello/hello.csproj" />
              </ItemGroup>
            </Project>
            """, false);
        p.Write("tests/GreetingTests.cs", "public class GreetingTests { [Xunit.Fact] public void Greets() => Xunit.Assert.Equal(\"hello\", Greet.Greeting.Text); }\n", false);
        var solution = p.Combine("All.slnx");
        ImageProject.Sh($"cd '{p.Dir}' && dotnet new sln -n All --format slnx >/dev/null && dotnet sln All.slnx add hello/hello.csproj greet/greet.csproj tests/hello.tests.csproj {Path.GetFileName(p.ProjectFile)} >/dev/null");
        BuildRun Build(params string[] args)
        {
            var run = Dotnet.Build(solution, p.Combine($"sln-{Guid.NewGuid():N}.binlog"), p.Environment, null, args);
            run.Succeeded.ShouldBeTrue(run.Output);
            return run;
        }

        string AppInImage() => ImageProject.Sh($"'{Path.Combine(p.Extract(), "opt/hello/hello")}'").Trim();

        Build().Ran("CreateImage").ShouldBeTrue();
        AppInImage().ShouldBe("hello");
        File.Exists(p.Combine("tests/bin/Debug/net10.0/hello.tests.dll")).ShouldBeTrue();

        // The second build used to fail (NETSDK1047): the solution's restore of the app dropped the image's runtime identifier.
        Build("-m:1").Ran("CreateImage").ShouldBeFalse("nothing changed");

        File.WriteAllText(greeting, File.ReadAllText(greeting).Replace("\"hello\"", "\"hello again\"", StringComparison.Ordinal));
        Build("-m").Ran("CreateImage").ShouldBeTrue("the app's library changed");
        AppInImage().ShouldBe("hello again");

        Build().Ran("CreateImage").ShouldBeFalse("the solution's own build of the app does not disturb the image's");
    }

    [Fact]
    public void A_project_referencing_an_image_gets_the_image_files_and_none_of_its_apps()
    {
        using var p = ImageProject.Busybox("""<ItemGroup><ProjectReference Include="hello/hello.csproj" ImagePath="/opt/hello" SelfContained="false" /></ItemGroup>""");
        p.Write("hello/hello.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
            </Project>
            """, false);
        p.Write("hello/Program.cs", "System.Console.WriteLine(\"hello\");\n", false);
        // A test project as a user writes it: the reference collects @(ImageOutput); the target only
        // lets this test see what arrived.
        var consumer = p.Write("consumer/consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
              <ItemGroup><ProjectReference Include="../{Path.GetFileName(p.ProjectFile)}" OutputItemType="ImageOutput" /></ItemGroup>
              <Target Name="RecordImages" AfterTargets="Build">
                <WriteLinesToFile File="$(OutDir)images.txt" Lines="@(ImageOutput->'%(Identity) %(ImageFormat) %(ImageName)')" Overwrite="true" />
              </Target>
            </Project>
            """, false);
        p.Write("consumer/Program.cs", "System.Console.WriteLine(\"consumer\");\n", false);

        var run = Dotnet.Build(consumer, p.Combine("consumer.binlog"), p.Environment, null);

        run.Succeeded.ShouldBeTrue(run.Output);
        var bin = p.Combine("consumer/bin/Debug/net10.0");
        File.ReadAllLines(Path.Combine(bin, "images.txt")).ShouldBe([$"{p.OutputFile()} tar image"]);
        File.Exists(p.OutputFile()).ShouldBeTrue("the reference built the image");
        Directory.EnumerateFiles(bin).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList()
            .ShouldBe(["consumer", "consumer.deps.json", "consumer.dll", "consumer.pdb", "consumer.runtimeconfig.json", "images.txt"], ignoreOrder: false, customMessage: "no app host, no image in the referencing project's output");
    }
}
