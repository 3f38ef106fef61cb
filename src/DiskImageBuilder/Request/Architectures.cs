namespace DiskImageBuilder.Output;

/// <summary>Architecture names as DIB and Debian spell them.</summary>
public static class Architectures
{
    public static readonly IReadOnlyList<string> Known = ["amd64", "arm64", "i386", "armhf", "ppc64el", "s390x"];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["x86_64"] = "amd64",
        ["aarch64"] = "arm64",
        ["i686"] = "i386",
    };

    public static string Normalize(string? arch, SourceLocation? location)
    {
        if (string.IsNullOrWhiteSpace(arch))
        {
            return "amd64";
        }

        arch = arch.Trim();
        var name = Aliases.GetValueOrDefault(arch, arch);
        return Known.Contains(name)
            ? name
            : throw new DibException(DibCodes.InvalidProperty, $"Unknown Architecture '{arch}'. Valid: {string.Join(", ", Known)} (or x86_64, aarch64).", location);
    }
}
