using System.Diagnostics;

namespace DiskImageBuilder.Host;

public sealed record ProcessResult(int ExitCode, IReadOnlyList<string> Tail)
{
    public string TailText => string.Join(Environment.NewLine, Tail);
}
