namespace DiskImageBuilder.Elements;

/// <summary>An element the user asked for, with where they asked (the .dibproj item, a CLI argument).</summary>
/// <remarks>The location stays out of the request file: moving a line must not rebuild the image.</remarks>
public sealed record ElementRequest(string Name, [property: System.Text.Json.Serialization.JsonIgnore] SourceLocation? Location = null);
