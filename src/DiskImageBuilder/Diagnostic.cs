namespace DiskImageBuilder;

/// <summary>One error or warning: code, message and optional location.</summary>
public sealed record Diagnostic(string Code, string Message, SourceLocation? Location = null);
