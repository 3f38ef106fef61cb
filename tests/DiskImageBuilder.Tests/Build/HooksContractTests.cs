using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>DIB's hooks-tree contract in real builds of the offline busybox tree. Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class HooksContractTests
{
    /// <summary>What install-types does: an extra-data.d hook links the chosen type's scripts into install.d.</summary>
    private static void WriteLinkingElement(ImageProject p, string marker)
    {
        p.Write("elements/linker/extra-data.d/99-link", """
            #!/bin/bash
            set -eu -o pipefail
            cd "$TMP_HOOKS_PATH/install.d"
            ln -sf app-source-install/* .
            """);
        p.Write("elements/linker/install.d/app-source-install/60-app", $"#!/bin/sh\necho {marker} >> /etc/linked\n");
        p.Write("elements/linker/install.d/50-plain", "#!/bin/sh\necho plain >> /etc/linked\n");
    }

    [Fact]
    public void Scripts_an_earlier_phase_links_into_a_later_one_run_also_when_that_phase_is_restored_from_a_snapshot()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="linker" />""");
        WriteLinkingElement(p, "linked");

        var first = p.Build();

        first.Succeeded.ShouldBeTrue(first.Output);
        File.ReadAllLines(Path.Combine(p.Extract(), "etc/linked")).ShouldBe(["plain", "linked"]);

        // install.d changes, extra-data.d (which made the link) is restored: the link must be back.
        p.Write("elements/linker/install.d/50-plain", "#!/bin/sh\necho plain-2 >> /etc/linked\n");
        var second = p.Build();

        second.Succeeded.ShouldBeTrue(second.Output);
        second.Messages.ShouldContain(m => m.Contains("restored root.d, extra-data.d", StringComparison.Ordinal), second.Output);
        File.ReadAllLines(Path.Combine(p.Extract(), "etc/linked")).ShouldBe(["plain-2", "linked"]);
    }

    [Fact]
    public void Two_elements_with_the_same_top_level_file_build_and_the_later_ones_file_is_in_the_hooks_tree()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="first" /><Element Include="second" />""");
        p.Write("elements/first/pkg-map", "{\"family\": {}}\n", false);
        p.Write("elements/second/element-deps", "first\n", false);
        p.Write("elements/second/pkg-map", "{\"distro\": {}}\n", false);
        p.Write("elements/second/install.d/50-read", "#!/bin/sh\ncp /tmp/in_target.d/pkg-map /etc/pkg-map-seen\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        run.Warnings.ShouldContain(w => w.Code == "DIB0013", run.Output);
        File.ReadAllText(Path.Combine(p.Extract(), "etc/pkg-map-seen")).ShouldBe("{\"distro\": {}}\n");
    }

    [Fact]
    public void The_hooks_tree_is_read_only_inside_the_image()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="writer" />""");
        p.Write("elements/writer/install.d/50-write", "#!/bin/sh\nif touch /tmp/in_target.d/x 2>/dev/null; then echo writable; else echo read-only; fi > /etc/hooks-mode\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        File.ReadAllText(Path.Combine(p.Extract(), "etc/hooks-mode")).Trim().ShouldBe("read-only");
    }
}
