namespace DiskImageBuilder.Output;

/// <summary>The output formats this version can write, in one place.</summary>
public static class ImageFormats
{
    /// <summary>As in diskimage-builder.</summary>
    public const string Default = "qcow2";

    public static readonly IReadOnlyList<ImageFormat> Known =
    [
        new("qcow2", "qcow2", "qcow2"),
        new("raw", "raw", "raw"),
        new("vhd", "vhd", "vpc"),
        new("vmdk", "vmdk", "vmdk"),
        new("tar", "tar"),
    ];

    /// <summary>diskimage-builder's other formats: a clear "not yet" instead of "unknown"; a name leaves this list when it joins <see cref="Known"/>.</summary>
    public static readonly IReadOnlyList<string> NotYetSupported =
        [.. ((string[])["qcow2", "raw", "vhd", "vhdx", "vmdk", "vdi", "docker", "aci", "tgz", "squashfs"]).Where(n => Known.All(k => k.Name != n))];

    /// <summary>Parses a list of names (';', ',' or space separated); an unknown name is DIB0020 listing the valid ones.</summary>
    public static IReadOnlyList<ImageFormat> Parse(IEnumerable<string> names, SourceLocation? location)
    {
        var result = new List<ImageFormat>();
        foreach (var name in names.SelectMany(n => n.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries)))
        {
            var format = Known.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
            if (format is null && NotYetSupported.Contains(name.ToLowerInvariant()))
            {
                throw new DibException(
                    DibCodes.UnsupportedImageFormat,
                    $"Image format '{name}' is not supported yet. This version writes: {string.Join(", ", Known.Select(f => f.Name))}.",
                    location);
            }

            format = format ?? throw new DibException(
                    DibCodes.UnknownImageFormat,
                    $"Unknown image format '{name}'. Valid formats: {string.Join(", ", Known.Select(f => f.Name))}.",
                    location);
            if (!result.Contains(format))
            {
                result.Add(format);
            }
        }

        if (result.Count == 0)
        {
            result.Add(Known.First(f => f.Name == Default));
        }

        return result;
    }
}
