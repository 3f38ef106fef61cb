using DiskImageBuilder.Snapshots;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Phase snapshot keys: what changes them and what does not. No build, no root.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class PhaseKeyTests
{
    private static readonly string[] Steps = ["root.d", "extra-data.d", "pre-install.d", "install.d", "dib-content.d", "post-install.d", "block-device.d", "finalise.d", "cleanup.d"];

    private sealed class Hooks : IDisposable
    {
        private readonly TempDir _dir = new();

        public Hooks()
        {
            Write("root.d/10-tree", "#!/bin/sh\nmkdir -p \"$TARGET_ROOT/etc\"\n");
            Write("install.d/50-install", "#!/bin/sh\necho install\n");
            Write("post-install.d/50-post", "#!/bin/sh\necho post\n");
            Write("environment.d/10-env", "export A=1\n");
            Write("static/etc/motd", "hello\n");
            Write(".dib/package-installs/install.d", "vim\n");
        }

        public Dictionary<string, string> Environment { get; } = new()
        {
            ["DIB_RELEASE"] = "bookworm",
            ["TARGET_ROOT"] = "/work/a/root",
            ["TMP_HOOKS_PATH"] = "/work/a/hooks",
            ["DIB_IMAGE_CACHE"] = "/cache/a",
        };

        public List<string> Elements { get; } = ["base", "debian"];

        public string Write(string relative, string content) => _dir.Write(relative, content);

        public string Path(string relative) => _dir.Combine(relative);

        public IReadOnlyList<string> Keys() => Inputs().Keys();

        public BuildInputs Inputs() => BuildInputs.Compute(_dir.Path, Environment, Elements, Steps, ["engine script"]);

        public void Dispose() => _dir.Dispose();
    }

    /// <summary>Index of the first step whose key differs, or -1 when all are equal.</summary>
    private static int FirstChanged(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        for (var i = 0; i < before.Count; i++)
        {
            if (before[i] != after[i])
            {
                // A key chains the previous one: once one differs, every later one must too.
                Enumerable.Range(i, before.Count - i).ShouldAllBe(j => before[j] != after[j]);
                return i;
            }
        }

        return -1;
    }

    private static int Step(string name) => Array.IndexOf(Steps, name);

    [Fact]
    public void A_phase_script_changes_its_phase_key_and_the_later_ones_only()
    {
        using var h = new Hooks();
        var before = h.Keys();
        before.Distinct().Count().ShouldBe(Steps.Length);

        h.Write("post-install.d/50-post", "#!/bin/sh\necho post, changed\n");
        FirstChanged(before, h.Keys()).ShouldBe(Step("post-install.d"));
    }

    [Theory]
    [InlineData("root.d/10-tree", "root.d")]
    [InlineData("install.d/50-install", "install.d")]
    [InlineData("finalise.d/99-new", "finalise.d")]
    [InlineData("dib-content.d/install", "dib-content.d")]
    [InlineData(".dib/package-installs/install.d", "install.d")]
    [InlineData(".dib/package-installs/post-install.d", "post-install.d")]
    [InlineData("environment.d/10-env", "root.d")]
    [InlineData("static/etc/motd", "root.d")]
    [InlineData("bin/helper", "root.d")]
    public void Each_hooks_file_reaches_the_steps_that_can_see_it(string file, string firstChanged)
    {
        using var h = new Hooks();
        var before = h.Keys();
        h.Write(file, "#!/bin/sh\n# new content\n");
        FirstChanged(before, h.Keys()).ShouldBe(Step(firstChanged));
    }

    [Fact]
    public void The_executable_bit_of_a_script_is_an_input()
    {
        using var h = new Hooks();
        var before = h.Keys();
        File.SetUnixFileMode(h.Path("install.d/50-install"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        FirstChanged(before, h.Keys()).ShouldBe(Step("install.d"));
    }

    [Fact]
    public void The_element_set_and_every_variable_reaching_scripts_change_every_key()
    {
        using var h = new Hooks();
        var before = h.Keys();

        h.Elements.Add("vm");
        FirstChanged(before, h.Keys()).ShouldBe(0);
        h.Elements.Remove("vm");
        FirstChanged(before, h.Keys()).ShouldBe(-1);

        h.Environment["DIB_RELEASE"] = "trixie";
        FirstChanged(before, h.Keys()).ShouldBe(0);
        h.Environment["DIB_RELEASE"] = "bookworm";

        h.Environment["DIB_ROOT_LABEL"] = "cloudimg-rootfs";
        FirstChanged(before, h.Keys()).ShouldBe(0);
    }

    [Fact]
    public void Timestamps_scratch_paths_the_cache_path_and_the_offline_switch_are_not_inputs()
    {
        using var h = new Hooks();
        var before = h.Keys();

        File.SetLastWriteTimeUtc(h.Path("install.d/50-install"), DateTime.UtcNow.AddDays(-3));
        h.Environment["TARGET_ROOT"] = "/elsewhere/root";
        h.Environment["TMP_HOOKS_PATH"] = "/elsewhere/hooks";
        h.Environment["DIB_IMAGE_CACHE"] = "/other/cache";
        h.Environment["DIB_OFFLINE"] = "1";
        h.Environment["DIB_NO_TMPFS"] = "1";

        h.Keys().ShouldBe(before);
    }

    [Fact]
    public void Why_a_step_runs_names_what_changed_since_the_last_build()
    {
        using var h = new Hooks();
        var first = h.Inputs();
        first.WhyRuns(0, null).ShouldContain("no earlier build");

        h.Write("post-install.d/50-post", "#!/bin/sh\necho changed\n");
        h.Inputs().WhyRuns(Step("post-install.d"), first).ShouldBe("its inputs changed: post-install.d/50-post changed");

        h.Environment["DIB_SECRET_TOKEN"] = "s3cret";
        var third = h.Inputs();
        third.WhyRuns(0, first).ShouldContain("env DIB_SECRET_TOKEN added");
        third.ToJson().ShouldNotContain("s3cret", customMessage: "values are fingerprinted, never stored");

        third.WhyRuns(Step("install.d"), BuildInputs.FromJson(third.ToJson())).ShouldContain("no valid snapshot");
    }
}
