using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Content;

/// <summary>A systemd service run as its own system user (named like the service).</summary>
public sealed record ServiceRequest(string Name, string ExecStart, string WorkingDirectory)
{
    /// <summary>NAME=VALUE pairs for the unit's Environment=.</summary>
    public IReadOnlyList<string> Environment { get; init; } = [];

    [JsonIgnore]
    public SourceLocation? Location { get; init; }
}
