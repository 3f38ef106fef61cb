using DiskImageBuilder.Host;
using DiskImageBuilder.Output;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// What a step wrote beside the image (IMAGE_NAME.d/…, IMAGE_NAME.vmlinuz: host hooks write there),
/// kept with the step's snapshot and written back when the step is restored instead of run, so a
/// build from snapshots (after a clean, too) has the same files beside its image. Kept by their
/// names after IMAGE_NAME, so another project restoring the snapshot gets them beside its own image.
/// </summary>
internal static class BesideImageCopy
{
    private const string Folder = "beside-image";

    /// <summary>Each file beside the image (see <see cref="Outputs.BesideImage(string)"/>): its size and time of last change.</summary>
    public static Dictionary<string, string> Fingerprint(string imageStem) =>
        Outputs.BesideImage(imageStem).ToDictionary(
            f => f,
            f => new FileInfo(f) is var i ? $"{i.Length} {i.LastWriteTimeUtc.Ticks}" : string.Empty,
            StringComparer.Ordinal);

    /// <summary>Keeps in <paramref name="layerDirectory"/> the files new or changed since <paramref name="before"/>.</summary>
    public static void Save(string imageStem, IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after, string layerDirectory)
    {
        foreach (var (file, print) in after)
        {
            if (before.TryGetValue(file, out var old) && old == print)
            {
                continue;
            }

            var kept = Path.Combine(layerDirectory, Folder, file[imageStem.Length..].TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(kept)!);
            File.Copy(file, kept, overwrite: true);
        }
    }

    /// <summary>Writes a restored step's kept files beside this build's image.</summary>
    public static void Apply(string layerDirectory, string imageStem)
    {
        var folder = Path.Combine(layerDirectory, Folder);
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var kept in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            // Kept as the part after IMAGE_NAME: ".d/…", ".vmlinuz".
            var target = imageStem + Path.GetRelativePath(folder, kept);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(kept, target, overwrite: true);
        }
    }
}
