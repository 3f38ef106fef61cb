using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>ImageFile items and app ProjectReferences on the offline busybox tree. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class AppCompositionTests
{
    private const string AppReference = """<ProjectReference Include="app/hello.csproj" ImagePath="/opt/hello" ServiceName="hello" SelfContained="false" ServiceEnvironment="GREETING=hi there;DOTNET_gcServer=0" />""";

    /// <summary>A minimal console app beside the image project (framework-dependent publish is enough here).</summary>
    private static string WriteApp(ImageProject p)
    {
        p.Write("app/hello.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
            </Project>
            """, false);
        return p.Write("app/Program.cs", "System.Console.WriteLine(\"hello\");\n", false);
    }

    private static int LineOf(ImageProject p, string text) =>
        File.ReadAllLines(p.ProjectFile).ToList().FindIndex(l => l.Contains(text, StringComparison.Ordinal)) + 1;

    [Fact]
    public void ImageFile_items_land_with_their_modes_owners_and_content_before_post_install()
    {
        using var p = ImageProject.Busybox(
            """
            <ItemGroup>
              <ImageFile Include="files/app.conf" ImagePath="/etc/app/app.conf" />
              <ImageFile Include="files/tool.sh" ImagePath="/usr/local/bin/tool" Mode="0750" Owner="0:5" />
            </ItemGroup>
            """,
            """<Element Include="seen" />""");
        p.Write("files/app.conf", "key=value\n", false);
        p.Write("files/tool.sh", "#!/bin/sh\necho tool\n", false);
        p.Write("elements/seen/post-install.d/50-seen", "#!/bin/sh\ncat /etc/app/app.conf > /seen-in-post-install\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllText(Path.Combine(tree, "etc/app/app.conf")).ShouldBe("key=value\n");
        ImageProject.Sh($"stat -c '%u:%g %a' '{tree}/etc/app/app.conf' '{tree}/etc/app' '{tree}/usr/local/bin/tool'").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ShouldBe(["0:0 644", "0:0 755", "0:5 750"]);
        File.ReadAllText(Path.Combine(tree, "seen-in-post-install")).ShouldBe("key=value\n");
        Directory.Exists(Path.Combine(tree, "tmp/in_target.d")).ShouldBeFalse();
    }

    [Fact]
    public void An_app_reference_is_published_into_the_image_with_a_service_and_rebuilds_only_when_it_changes()
    {
        using var p = ImageProject.Busybox($"<ItemGroup>{AppReference}</ItemGroup>");
        var program = WriteApp(p);

        var first = p.Build();

        first.Succeeded.ShouldBeTrue(first.Output);
        first.Ran("CreateImage").ShouldBeTrue();
        Directory.Exists(p.Combine("obj/Debug/dib/apps/hello")).ShouldBeTrue("published under the image's obj/");
        var tree = p.Extract();
        File.Exists(Path.Combine(tree, "opt/hello/hello.dll")).ShouldBeTrue();
        File.Exists(Path.Combine(tree, "opt/hello/hello.runtimeconfig.json")).ShouldBeTrue();
        ImageProject.Sh($"stat -c '%u:%g %a' '{tree}/opt/hello/hello.dll' '{tree}/opt/hello/hello' '{tree}/opt/hello'").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ShouldBe(["0:0 644", "0:0 755", "0:0 755"], "the app host keeps its executable bit");
        var unit = File.ReadAllText(Path.Combine(tree, "etc/systemd/system/hello.service"));
        unit.ShouldContain("ExecStart=/usr/bin/dotnet /opt/hello/hello.dll");
        unit.ShouldContain("WorkingDirectory=/opt/hello");
        unit.ShouldContain("User=hello");
        unit.ShouldContain("Restart=on-failure");
        unit.ShouldContain("Environment=\"GREETING=hi there\"");
        new FileInfo(Path.Combine(tree, "etc/systemd/system/multi-user.target.wants/hello.service")).LinkTarget.ShouldBe("/etc/systemd/system/hello.service");
        File.ReadAllText(Path.Combine(tree, "etc/passwd")).ShouldContain("hello:x:");

        var second = p.Build();
        second.Succeeded.ShouldBeTrue(second.Output);
        second.Ran("CreateImage").ShouldBeFalse("nothing changed");

        File.WriteAllText(program, "System.Console.WriteLine(\"changed\");\n");
        var third = p.Build();
        third.Succeeded.ShouldBeTrue(third.Output);
        third.Ran("CreateImage").ShouldBeTrue("the app's source changed");
    }

    [Fact]
    public void Apps_are_self_contained_for_the_images_architecture_by_default()
    {
        using var p = ImageProject.Busybox("""<ItemGroup><ProjectReference Include="app/hello.csproj" ImagePath="/opt/hello" ServiceName="hello" /></ItemGroup>""");
        WriteApp(p);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.Exists(Path.Combine(tree, "opt/hello/libcoreclr.so")).ShouldBeTrue("the runtime travels with a self-contained app");
        File.ReadAllText(Path.Combine(tree, "etc/systemd/system/hello.service")).ShouldContain("ExecStart=/opt/hello/hello\n");
        ImageProject.Sh($"'{tree}/opt/hello/hello'").Trim().ShouldBe("hello", "the linux-x64 app host runs");
    }

    [Fact]
    public void A_relative_ImagePath_is_an_error_at_the_reference()
    {
        using var p = ImageProject.Busybox("""
            <ItemGroup>
              <ProjectReference Include="app/hello.csproj" ImagePath="opt/hello" SelfContained="false" />
            </ItemGroup>
            """);
        WriteApp(p);

        var error = p.Build().Errors.ShouldHaveSingleItem();

        error.Code.ShouldBe("DIB0300");
        error.File.ShouldBe(p.ProjectFile);
        error.LineNumber.ShouldBe(LineOf(p, "ImagePath=\"opt/hello\""));
        File.Exists(p.OutputFile()).ShouldBeFalse();
    }

    [Fact]
    public void Colliding_ImagePaths_and_bad_item_metadata_are_errors_at_their_items()
    {
        using var p = ImageProject.Busybox("""
            <ItemGroup>
              <ProjectReference Include="app/hello.csproj" ImagePath="/opt/hello" ServiceName="Bad Name" SelfContained="false" />
              <ImageFile Include="a.conf" ImagePath="/etc/x.conf" />
              <ImageFile Include="b.conf" ImagePath="/etc//x.conf" />
            </ItemGroup>
            """);
        WriteApp(p);
        p.Write("a.conf", "a", false);
        p.Write("b.conf", "b", false);

        var error = p.Build().Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("DIB0302");
        error.LineNumber.ShouldBe(LineOf(p, "Bad Name"));

        File.WriteAllText(p.ProjectFile, File.ReadAllText(p.ProjectFile).Replace("Bad Name", "hello", StringComparison.Ordinal));
        var collision = p.Build().Errors.ShouldHaveSingleItem();
        collision.Code.ShouldBe("DIB0301");
        collision.File.ShouldBe(p.ProjectFile);
        collision.LineNumber.ShouldBe(LineOf(p, "b.conf"));
        collision.Text.ShouldContain("'/etc/x.conf'");
        collision.Text.ShouldContain($"{p.ProjectFile}({LineOf(p, "a.conf")})");
    }

    [Fact]
    public void A_project_reference_that_is_no_app_is_restored_by_NuGet_and_built()
    {
        using var p = ImageProject.Busybox("""<ItemGroup><ProjectReference Include="app/hello.csproj" /></ItemGroup>""");
        WriteApp(p);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        run.RanTask("RestoreTask").ShouldBeTrue();
        File.Exists(p.Combine("app/obj/project.assets.json")).ShouldBeTrue();
        File.Exists(p.Combine("app/bin/Debug/net10.0/hello.dll")).ShouldBeTrue();
        Directory.Exists(Path.Combine(p.Extract(), "opt")).ShouldBeFalse("only apps go into the image");
    }

    [Fact]
    public void A_referenced_project_that_does_not_compile_stops_the_build_with_its_own_error()
    {
        using var p = ImageProject.Busybox($"<ItemGroup>{AppReference}</ItemGroup>");
        var program = WriteApp(p);
        File.WriteAllText(program, "this is not C#\n");

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        run.Errors.ShouldNotBeEmpty();
        run.Errors.ShouldAllBe(e => e.Code.StartsWith("CS", StringComparison.Ordinal));
        run.Errors.ShouldContain(e => e.File == program);
        run.Ran("CreateImage").ShouldBeFalse();
        File.Exists(p.OutputFile()).ShouldBeFalse();
    }
}
