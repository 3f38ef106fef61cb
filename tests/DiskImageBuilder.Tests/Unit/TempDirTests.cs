using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The suite's scratch folders: a killed run's are removed by the next run, a live run's never.</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class TempDirTests
{
    [Fact]
    public void Folders_of_a_test_process_that_is_gone_are_removed_and_live_ones_kept()
    {
        // Above the kernel's largest PID (pid_max is at most 2^22): no process has it.
        var dead = Directory.CreateTempSubdirectory("dib-test-4194399-").FullName;
        File.WriteAllText(Path.Combine(dead, "left"), "x");
        using var live = new TempDir();
        File.WriteAllText(live.Combine("kept"), "x");

        TempDir.RemoveLeftovers();

        Directory.Exists(dead).ShouldBeFalse();
        File.Exists(live.Combine("kept")).ShouldBeTrue();
    }
}
