using System.Diagnostics;

namespace DiskImageBuilder.Host;

/// <summary>What to run. <see cref="Environment"/> replaces the inherited environment when <see cref="ClearEnvironment"/> is set.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    public bool ClearEnvironment { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>Inherit our terminal (stdin, stdout, stderr) instead of capturing output: for shells the user drives.</summary>
    public bool Interactive { get; init; }

    /// <summary>How many of the last output lines to keep for error messages.</summary>
    public int TailLines { get; init; } = 20;
}
