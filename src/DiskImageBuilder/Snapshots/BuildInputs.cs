using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// What reaches each step of a build, as fingerprints (never values: environment values may be
/// secrets). <see cref="Base"/> reaches every step: the engine's own scripts, the element set, the
/// scripts' environment and the hooks files outside any step's folder (environment.d, bin/, data).
/// A step's key chains the previous key with its own files, so changing a step's script changes
/// its key and every later one, and nothing before it.
/// </summary>
internal sealed record BuildInputs(SortedDictionary<string, string> Base, IReadOnlyList<StepInput> Steps)
{
    /// <summary>Bumped when the snapshot format or what a step sees changes in the engine.</summary>
    private const string FormatVersion = "dib-phase-cache-2";

    /// <summary>
    /// Variables that do not shape the tree: paths of this build's scratch space and cache, whose
    /// contents are already fingerprinted, and switches that change how, not what, is built.
    /// </summary>
    private static readonly HashSet<string> NotInputs =
        ["TARGET_ROOT", "TMP_MOUNT_PATH", "TMP_HOOKS_PATH", "TMP_BUILD_DIR", "_LIB", "IMAGE_ELEMENT_YAML", "BASH_FUNC_get_image_element_array%%", "ELEMENTS_PATH",
            "DIB_IMAGE_CACHE", "DIB_OFFLINE", "DIB_NO_TMPFS", "DIB_MIN_TMPFS", PackageCache.Switch, PackageCache.ViewVariable,
            // Summaries of the caller's variables and options, each of which is an input on its own.
            "DIB_ENV", "DIB_ARGS"];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <param name="steps">Step names in build order: phase folders and the content folder.</param>
    /// <param name="engineScripts">The engine's own wrappers every script runs through.</param>
    /// <param name="elements">
    /// The elements, whose top-level files (pkg-map, svc-map, …) hooks read from the element
    /// directories named in IMAGE_ELEMENT_YAML: the hooks tree holds only the last of each name.
    /// </param>
    public static BuildInputs Compute(
        string hooksRoot, IReadOnlyDictionary<string, string> environment, IEnumerable<string> elementNames, IReadOnlyList<string> steps, IEnumerable<string> engineScripts,
        IEnumerable<Elements.Element>? elements = null)
    {
        var baseInputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["engine"] = Fingerprint.Of(FormatVersion + "\n" + string.Join("\n", engineScripts)),
            ["elements"] = string.Join(' ', elementNames),
        };
        foreach (var (name, value) in environment.Where(e => !NotInputs.Contains(e.Key)))
        {
            baseInputs[$"env {name}"] = Fingerprint.Of(value);
        }

        var stepFiles = steps.ToDictionary(s => s, _ => new SortedDictionary<string, string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(hooksRoot, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(hooksRoot, file);
            var executable = HostFiles.IsExecutable(file) ? " +x" : string.Empty;
            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))) + executable;
            if (StepOf(relative) is { } step && stepFiles.TryGetValue(step, out var files))
            {
                files[relative] = fingerprint;
            }
            else
            {
                baseInputs[$"file {relative}"] = fingerprint;
            }
        }

        foreach (var element in elements ?? [])
        {
            foreach (var file in Directory.EnumerateFiles(element.Directory).Where(f => !Elements.Element.MetadataFiles.Contains(Path.GetFileName(f))))
            {
                baseInputs[$"element {element.Name}/{Path.GetFileName(file)}"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
            }
        }

        return new BuildInputs(baseInputs, [.. steps.Select(s => new StepInput(s, stepFiles[s]))]);
    }

    /// <summary>The key of the tree after each step, in step order.</summary>
    public IReadOnlyList<string> Keys()
    {
        var keys = new List<string>();
        var previous = Fingerprint.Of(Canonical(Base));
        foreach (var step in Steps)
        {
            previous = Fingerprint.Of($"{previous}\n{step.Name}\n{Canonical(step.Files)}");
            keys.Add(previous);
        }

        return keys;
    }

    /// <summary>Why step <paramref name="index"/> must run, compared with the inputs of the image's previous build.</summary>
    public string WhyRuns(int index, BuildInputs? previous)
    {
        if (previous is null)
        {
            return "no snapshot of it in the cache (no earlier build of this image recorded)";
        }

        var changes = Diff(previous.Base, Base);
        if (changes.Count > 0)
        {
            return $"inputs of every phase changed: {Summary(changes)}";
        }

        for (var i = 0; i <= index; i++)
        {
            var before = previous.Steps.FirstOrDefault(s => s.Name == Steps[i].Name);
            changes = Diff(before?.Files ?? new(StringComparer.Ordinal), Steps[i].Files);
            if (before is null && Steps[i].Files.Count == 0)
            {
                changes = [$"{Steps[i].Name} is new in this build"];
            }

            if (changes.Count > 0)
            {
                return i == index ? $"its inputs changed: {Summary(changes)}" : $"{Steps[i].Name} changed before it: {Summary(changes)}";
            }
        }

        return "no valid snapshot of it in the cache (evicted, invalid, or built with other inputs since)";
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static BuildInputs? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<BuildInputs>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // hooks/install.d/x belongs to install.d; .dib/package-installs/install.d to install.d too.
    private static string? StepOf(string relative)
    {
        if (relative.StartsWith(PackageInstalls.ListDirectory + "/", StringComparison.Ordinal))
        {
            return relative[(PackageInstalls.ListDirectory.Length + 1)..];
        }

        var slash = relative.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 ? relative[..slash] : null;
    }

    private static string Canonical(SortedDictionary<string, string> values) =>
        string.Concat(values.Select(v => $"{v.Key}\t{v.Value}\n"));

    private static List<string> Diff(SortedDictionary<string, string> before, SortedDictionary<string, string> after)
    {
        var changes = new List<string>();
        foreach (var (name, value) in after)
        {
            if (!before.TryGetValue(name, out var old))
            {
                changes.Add($"{name} added");
            }
            else if (old != value)
            {
                changes.Add($"{name} changed");
            }
        }

        changes.AddRange(before.Keys.Where(k => !after.ContainsKey(k)).Select(k => $"{k} removed"));
        return changes;
    }

    private static string Summary(List<string> changes) =>
        string.Join(", ", changes.Take(4)) + (changes.Count > 4 ? $" and {changes.Count - 4} more" : string.Empty);
}
