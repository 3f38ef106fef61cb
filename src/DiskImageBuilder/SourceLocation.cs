namespace DiskImageBuilder;

/// <summary>Where a diagnostic points: a file and a 1-based line (0 when unknown).</summary>
public sealed record SourceLocation(string File, int Line = 0)
{
    public override string ToString() => Line > 0 ? $"{File}({Line})" : File;
}
