namespace DiskImageBuilder.Output;

/// <summary>The output formats this version can write, in one place.</summary>
public static class ImageFormats
{
    /// <summary>As in diskimage-builder.</summary>
    public const string Default = "qcow2";

    /// <summary>DIB's formats plus every format qemu-img writes, by its name (vhd is qemu-img's vpc, as in DIB).</summary>
    public static readonly IReadOnlyList<ImageFormat> Known =
    [
        new("qcow2", "qcow2", "qcow2"),
        new("raw", "raw", "raw"),
        new("vhd", "vhd", "vpc"),
        new("vmdk", "vmdk", "vmdk"),
        new("vhdx", "vhdx", "vhdx"),
        new("vdi", "vdi", "vdi"),
        new("qed", "qed", "qed"),
        new("qcow", "qcow", "qcow"),
        new("parallels", "parallels", "parallels"),
        new("tar", "tar"),
        new("tgz", "tgz"),
        new("squashfs", "squashfs"),
        // DIB imports into a running docker daemon; here a file that `docker load` / `podman load` take, no daemon needed.
        new("docker", "docker.tar"),
        new("oci", "oci.tar"),
    ];

    /// <summary>Formats qemu-img reads but cannot write.</summary>
    public static readonly IReadOnlyList<string> ReadOnlyQemuFormats = ["bochs", "cloop", "dmg", "vvfat"];

    /// <summary>Parses a list of names (';', ',' or space separated); an unknown name is DIB0020 listing the valid ones.</summary>
    public static IReadOnlyList<ImageFormat> Parse(IEnumerable<string> names, SourceLocation? location)
    {
        var result = new List<ImageFormat>();
        foreach (var name in names.SelectMany(n => n.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries)))
        {
            var format = Known.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
            if (format is null && string.Equals(name, "aci", StringComparison.OrdinalIgnoreCase))
            {
                throw new DibException(
                    DibCodes.AciDeprecated,
                    "Image format 'aci' (the App Container image of rkt) is deprecated in diskimage-builder and not written here. Use 'oci' (an OCI image layout archive) or 'docker'.",
                    location);
            }

            if (format is null && ReadOnlyQemuFormats.Contains(name.ToLowerInvariant()))
            {
                throw new DibException(
                    DibCodes.UnsupportedImageFormat,
                    $"qemu-img reads '{name}' images but cannot write them. Disk formats written here: {string.Join(", ", Known.Where(f => f.IsDisk).Select(f => f.Name))}.",
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
