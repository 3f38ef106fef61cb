using DiskImageBuilder.Elements;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Where an image's block-device configuration comes from, first found wins: the BlockDeviceConfig
/// property (a file path, or YAML when it spans lines or starts with '-'), DIB_BLOCK_DEVICE_CONFIG
/// (`file://PATH` or the YAML itself, as DIB reads it), then the first element (in resolution order) with a
/// block-device-ARCH.yaml or block-device-default.yaml, as DIB searches them, unless the user set a
/// BootMode: that names one of the engine's own layouts (<see cref="BootModes"/>), which the
/// block-device element then only has to agree with. Null when none gives one: the BootMode layout applies.
/// </summary>
internal static class BlockDeviceConfigSource
{
    public const string Variable = "DIB_BLOCK_DEVICE_CONFIG";

    /// <summary>The YAML and the name its diagnostics point at (a file, or the property/variable for inline YAML).</summary>
    public static (string Yaml, string Source)? Find(BuildRequest request, IEnumerable<Element> elements)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!string.IsNullOrWhiteSpace(request.BlockDeviceConfig))
        {
            var value = request.BlockDeviceConfig;
            if (value.Contains('\n', StringComparison.Ordinal) || value.TrimStart().StartsWith('-'))
            {
                return (value, request.ProjectFile is null ? "BlockDeviceConfig" : $"{request.ProjectFile} (BlockDeviceConfig)");
            }

            var baseDir = request.ProjectFile is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(request.ProjectFile))!;
            return Read(Path.GetFullPath(value.Trim(), baseDir), "The BlockDeviceConfig property");
        }

        if (request.Environment.TryGetValue(Variable, out var env) && !string.IsNullOrEmpty(env))
        {
            return env.StartsWith("file://", StringComparison.Ordinal)
                ? Read(Path.GetFullPath(env["file://".Length..]), Variable)
                : (env, Variable);
        }

        if (!string.IsNullOrWhiteSpace(request.BootMode))
        {
            return null;
        }

        var arch = request.Architecture is "ppc64le" or "ppc64el" ? "ppc64el" : request.Architecture;
        foreach (var element in elements)
        {
            foreach (var name in new[] { $"block-device-{arch}.yaml", "block-device-default.yaml" })
            {
                var file = Path.Combine(element.Directory, name);
                if (File.Exists(file))
                {
                    return (File.ReadAllText(file), file);
                }
            }
        }

        return null;
    }

    private static (string, string) Read(string file, string what) =>
        File.Exists(file)
            ? (File.ReadAllText(file), file)
            : throw new DibException(DibCodes.BlockDeviceConfigNotFound, $"{what} names the block-device configuration file '{file}', which does not exist.");
}
