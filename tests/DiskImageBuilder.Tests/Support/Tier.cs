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

    /// <summary>
    /// Heavy, for another architecture: every program of the image under qemu-user and its boot under
    /// qemu-system TCG, a quarter of an hour of mostly one busy core. eng/test.sh's default run starts it
    /// as a second dotnet test beside the Heavy tier; `eng/test.sh --tier Emulated` runs it alone.
    /// </summary>
    public const string Emulated = "Emulated";
}
