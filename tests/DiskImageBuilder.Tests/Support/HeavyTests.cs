using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Heavy tests (real Debian builds, qemu boots) run alone, after the parallel ones.</summary>
[CollectionDefinition("Heavy", DisableParallelization = true)]
public sealed class HeavyTests
{
}
