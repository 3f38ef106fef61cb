namespace DiskImageBuilder.Output;

/// <summary>A package installed in the image, as its package database records it.</summary>
/// <param name="License">An SPDX licence expression from the package's machine-readable copyright file, or null when it has none.</param>
internal sealed record InstalledPackage(string Name, string Version, string Architecture, string SourceName, string SourceVersion, string? License)
{
    /// <summary>The package URL (purl) of a Debian package.</summary>
    public string Purl(string distro) =>
        $"pkg:deb/{distro}/{Uri.EscapeDataString(Name)}@{Uri.EscapeDataString(Version)}?arch={Architecture}"
        + (SourceName != Name || SourceVersion != Version ? $"&upstream={Uri.EscapeDataString(SourceName)}" : string.Empty);
}
