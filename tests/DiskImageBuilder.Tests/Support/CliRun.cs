using DiskImageBuilder.Cli;

namespace DiskImageBuilder.Tests;

/// <summary>What a command printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}
