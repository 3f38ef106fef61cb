using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>What the serial console showed.</summary>
public sealed record BootResult(bool LoginPrompt, string? Report, TimeSpan Elapsed, string Console);
