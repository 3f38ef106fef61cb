using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Content;

/// <summary>A host file copied into the image: an ImageFile item or one file of a published app.</summary>
public sealed record ImageFileRequest(string Source, string ImagePath)
{
    /// <summary>Octal, as chmod takes it.</summary>
    public string Mode { get; init; } = ImageContent.FileMode;

    /// <summary>user:group, resolved inside the image.</summary>
    public string Owner { get; init; } = ImageContent.RootOwner;

    [JsonIgnore]
    public SourceLocation? Location { get; init; }
}
