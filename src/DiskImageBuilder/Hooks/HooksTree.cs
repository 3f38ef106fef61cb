using DiskImageBuilder.Elements;

namespace DiskImageBuilder.Hooks;

/// <summary>A script of the merged hooks tree and the element file it came from.</summary>
public sealed record HookScript(Phase Phase, string Name, string Path, string SourcePath, string ElementName)
{
    public string DisplayName => $"{Phase.Name}/{Name}";
}

/// <summary>
/// Every element's files merged into one directory (DIB's TMP_HOOKS_PATH): phase folders,
/// environment.d, bin/ and any data files. Two elements shipping one path is an error naming both,
/// unless the files are identical.
/// </summary>
public sealed class HooksTree
{
    public const string EnvironmentDir = "environment.d";
    public const string BinDir = "bin";

    private readonly Dictionary<string, (string Source, string Element)> _origins;

    private HooksTree(string root, Dictionary<string, (string, string)> origins)
    {
        Root = root;
        _origins = origins;
    }

    public string Root { get; }

    /// <summary>Copies the elements' files into <paramref name="root"/> (which must not exist yet or be empty).</summary>
    public static HooksTree Create(string root, IEnumerable<Element> elements, IBuildLog log)
    {
        Directory.CreateDirectory(root);
        var origins = new Dictionary<string, (string Source, string Element)>(StringComparer.Ordinal);
        var errors = new List<Diagnostic>();
        foreach (var element in elements)
        {
            foreach (var source in Directory.EnumerateFiles(element.Directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(element.Directory, source);
                if (!relative.Contains('/', StringComparison.Ordinal) && Element.MetadataFiles.Contains(relative))
                {
                    continue;
                }

                var target = Path.Combine(root, relative);
                if (origins.TryGetValue(relative, out var first))
                {
                    if (!SameContent(first.Source, source))
                    {
                        errors.Add(new Diagnostic(
                            DibCodes.HookClash,
                            $"Elements '{first.Element}' and '{element.Name}' both ship '{relative}': {first.Source} and {source}. Rename one of them.",
                            new SourceLocation(source)));
                    }

                    continue;
                }

                origins[relative] = (source, element.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target);
            }
        }

        // Warn before failing on a clash, so one build shows every problem with the hooks.
        var tree = new HooksTree(root, origins);
        foreach (var phase in Phase.All)
        {
            foreach (var file in tree.FilesIn(phase.Name).Where(f => !IsExecutable(f.Path)))
            {
                log.Warning(new Diagnostic(
                    DibCodes.HookNotExecutable,
                    $"{phase.Name}/{Path.GetFileName(file.Path)} of element '{file.Element}' is not executable and is skipped (chmod +x to run it).",
                    new SourceLocation(file.Source)));
            }
        }

        if (errors.Count > 0)
        {
            throw new DibException(errors);
        }

        return tree;
    }

    /// <summary>The scripts of a phase in the order they run: C-locale (ordinal) order of their names, executables only.</summary>
    public IReadOnlyList<HookScript> Scripts(Phase phase) =>
        [.. FilesIn(phase.Name).Where(f => IsExecutable(f.Path))
            .Select(f => new HookScript(phase, Path.GetFileName(f.Path), f.Path, f.Source, f.Element))];

    private IEnumerable<(string Path, string Source, string Element)> FilesIn(string dir)
    {
        var full = Path.Combine(Root, dir);
        if (!Directory.Exists(full))
        {
            return [];
        }

        return Directory.EnumerateFiles(full)
            .Where(f => IsScriptName(Path.GetFileName(f)))
            .Order(StringComparer.Ordinal)
            .Select(f =>
            {
                var (source, element) = _origins[Path.GetRelativePath(Root, f)];
                return (f, source, element);
            });
    }

    // Editor leftovers and hidden files are never hooks.
    private static bool IsScriptName(string name) =>
        !name.StartsWith('.') && !name.EndsWith('~') && !name.EndsWith(".swp", StringComparison.Ordinal)
        && !name.EndsWith(".orig", StringComparison.Ordinal);

    internal static bool IsExecutable(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    private static bool SameContent(string a, string b)
    {
        var fa = new FileInfo(a);
        var fb = new FileInfo(b);
        return fa.Length == fb.Length && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));
    }
}
