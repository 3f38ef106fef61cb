namespace DiskImageBuilder.Elements;

/// <summary>A name an element lists in element-deps or element-provides, with the line it came from.</summary>
public sealed record ElementReference(string Name, SourceLocation Location);
