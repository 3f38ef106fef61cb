using System.Text.RegularExpressions;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>What one boot of a copy of the cloud image showed.</summary>
public sealed record CopyBoot(BootResult Boot, IReadOnlyDictionary<string, string> Answers);
