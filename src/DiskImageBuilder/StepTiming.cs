namespace DiskImageBuilder;

/// <summary>How long one step of the build took, and whether it was restored from a phase snapshot instead of run.</summary>
public sealed record StepTiming(string Step, TimeSpan Elapsed, bool Restored);
