using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>A build (dotnet build or the CLI) started in a session of its own and sent a signal while a hook runs.</summary>
internal sealed record SignalledRun(int ExitCode, string Output, IReadOnlyList<ProcessId> Descendants)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}";
}
