using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Content;

/// <summary>A published app to put in the image: what the project reference says, before its files are listed.</summary>
public sealed record AppSpec(string Name, string PublishDirectory, string ImagePath)
{
    public string? ServiceName { get; init; }

    /// <summary>';' separated NAME=VALUE pairs for the service.</summary>
    public string? ServiceEnvironment { get; init; }

    public SourceLocation? Location { get; init; }
}
