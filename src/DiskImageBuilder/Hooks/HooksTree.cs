using System.Globalization;
using System.Text.RegularExpressions;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Hooks;

/// <summary>
/// Every element's files merged into one directory (DIB's TMP_HOOKS_PATH), with DIB's copy rules:
/// files at an element's top level are copied in element order and the last one wins (a warning
/// when they differ); a file inside a folder (phase folders, environment.d, bin/, data) that two
/// elements ship differently is an error naming both. Phase folders are read when the phase runs,
/// so scripts an earlier hook adds (install-types' symbolic links) run in their place.
/// </summary>
public sealed partial class HooksTree
{
    public const string EnvironmentDir = "environment.d";
    public const string BinDir = "bin";

    /// <summary>Folders of an element DIB never copies.</summary>
    private static readonly HashSet<string> NotCopied = new(StringComparer.Ordinal) { "tests", "__pycache__" };

    private readonly Dictionary<string, (string Source, string Element)> _origins;

    private HooksTree(string root, Dictionary<string, (string, string)> origins)
    {
        Root = root;
        _origins = origins;
    }

    public string Root { get; }

    /// <summary>The element file a file of the tree (relative path) was copied from, and its element; files made during the build are their own source.</summary>
    public (string Source, string Element) Origin(string relative) =>
        _origins.TryGetValue(relative, out var origin) ? origin : (Path.Combine(Root, relative), "(added during the build)");

    /// <summary>Copies the elements' files into <paramref name="root"/> (which must not exist yet or be empty).</summary>
    public static HooksTree Create(string root, IEnumerable<Element> elements, IBuildLog log)
    {
        Directory.CreateDirectory(root);
        var origins = new Dictionary<string, (string Source, string Element)>(StringComparer.Ordinal);
        var errors = new List<Diagnostic>();
        var modes = new ElementFileModes();
        foreach (var element in elements)
        {
            foreach (var source in ElementFiles(element.Directory))
            {
                var relative = Path.GetRelativePath(element.Directory, source);
                var topLevel = !relative.Contains('/', StringComparison.Ordinal);
                if (topLevel && (Element.MetadataFiles.Contains(relative) || relative.EndsWith(".pyc", StringComparison.Ordinal)))
                {
                    continue;
                }

                if (!IsFileOrLinkToOne(source))
                {
                    errors.Add(new Diagnostic(
                        DibCodes.BadHookFile,
                        $"'{relative}' of element '{element.Name}' is a symbolic link to '{new FileInfo(source).LinkTarget}', which does not exist.",
                        new SourceLocation(source)));
                    continue;
                }

                var target = Path.Combine(root, relative);
                if (origins.TryGetValue(relative, out var first) && !SameContent(first.Source, source))
                {
                    if (!topLevel)
                    {
                        errors.Add(new Diagnostic(
                            DibCodes.HookClash,
                            $"Elements '{first.Element}' and '{element.Name}' both ship '{relative}': {first.Source} and {source}. Rename one of them.",
                            new SourceLocation(source)));
                        continue;
                    }

                    // DIB copies top-level files (pkg-map, svc-map, …) in element order: the later element's wins.
                    log.Warning(new Diagnostic(
                        DibCodes.TopLevelFileReplaced,
                        $"Elements '{first.Element}' and '{element.Name}' both ship '{relative}'; as in diskimage-builder, the later one ({source}) is the one in the hooks tree.",
                        new SourceLocation(source)));
                    Copy(source, target, modes.Of(element, relative));
                    origins[relative] = (source, element.Name);
                    continue;
                }

                if (origins.ContainsKey(relative))
                {
                    continue;
                }

                origins[relative] = (source, element.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                Copy(source, target, modes.Of(element, relative));
            }
        }

        // Warn before failing on a clash, so one build shows every problem with the hooks.
        var tree = new HooksTree(root, origins);
        foreach (var phase in Phase.All)
        {
            foreach (var entry in tree.Entries(phase))
            {
                if (entry.Problem is { } problem)
                {
                    errors.Add(problem);
                }
                else if (!entry.Executable)
                {
                    log.Warning(new Diagnostic(
                        DibCodes.HookNotExecutable,
                        $"{phase.Name}/{entry.Name} of element '{entry.Element}' is not executable and is skipped (chmod +x to run it).",
                        new SourceLocation(entry.Source)));
                }
                else if (!ValidName().IsMatch(entry.Name))
                {
                    log.Warning(new Diagnostic(
                        DibCodes.HookNameIgnored,
                        $"{phase.Name}/{entry.Name} of element '{entry.Element}' is skipped: as in diskimage-builder, only names of letters, digits, '_' and '-' run (no dots).",
                        new SourceLocation(entry.Source)));
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new DibException(errors);
        }

        return tree;
    }

    /// <summary>
    /// The scripts of a phase as they are now, in the order they run: dib-run-parts' order
    /// (`LC_ALL=C sort -n`: the leading number, then the name), executables with DIB's names only.
    /// </summary>
    public IReadOnlyList<HookScript> Scripts(Phase phase)
    {
        var entries = Entries(phase).ToList();
        if (entries.FirstOrDefault(e => e.Problem is not null)?.Problem is { } problem)
        {
            throw new DibException([problem]);
        }

        return [.. entries.Where(e => e.Executable && ValidName().IsMatch(e.Name))
            .Select(e => new HookScript(phase, e.Name, e.Path, e.Source, e.Element))];
    }

    /// <summary>
    /// The environment.d files every script sources first, as they are now, in dib-run-parts' order
    /// (files or links to files, names of letters, digits, '_', '-' and '.'), relative to the tree.
    /// </summary>
    public IReadOnlyList<string> EnvironmentFiles()
    {
        var dir = Path.Combine(Root, EnvironmentDir);
        return !Directory.Exists(dir) ? [] :
            [.. Directory.EnumerateFiles(dir).Where(IsFileOrLinkToOne).Select(Path.GetFileName).OfType<string>()
                .Where(n => EnvironmentName().IsMatch(n))
                .Order(Comparer<string>.Create(RunOrder))
                .Select(n => $"{EnvironmentDir}/{n}")];
    }

    /// <summary>DIB's `sort -n` order: by the leading (possibly negative) number, then byte by byte.</summary>
    public static int RunOrder(string a, string b)
    {
        var byNumber = LeadingNumber(a).CompareTo(LeadingNumber(b));
        return byNumber != 0 ? byNumber : string.CompareOrdinal(a, b);
    }

    private static decimal LeadingNumber(string name)
    {
        var match = NumberPrefix().Match(name);
        return match.Success && decimal.TryParse(match.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private sealed record Entry(string Name, string Path, string Source, string Element, bool Executable, Diagnostic? Problem);

    private IEnumerable<Entry> Entries(Phase phase)
    {
        var dir = Path.Combine(Root, phase.Name);
        if (!Directory.Exists(dir))
        {
            return [];
        }

        return new DirectoryInfo(dir).EnumerateFileSystemInfos()
            .Where(f => IsScriptName(f.Name))
            .Select(f => Describe(phase, f))
            .OfType<Entry>()
            .Order(Comparer<Entry>.Create((x, y) => RunOrder(x.Name, y.Name)));
    }

    /// <summary>One entry of a phase folder: a file, or a symbolic link followed (an in-image absolute link read as in the image).</summary>
    private Entry? Describe(Phase phase, FileSystemInfo file)
    {
        var relative = Path.GetRelativePath(Root, file.FullName);
        var (source, element) = _origins.TryGetValue(relative, out var origin) ? origin : (file.FullName, "(added during the build)");
        var target = file.FullName;
        for (var hops = 0; hops < 40 && new FileInfo(target).LinkTarget is { } link; hops++)
        {
            target = link.StartsWith(PhaseRunner.InTargetHooks + "/", StringComparison.Ordinal)
                ? Path.Combine(Root, link[(PhaseRunner.InTargetHooks.Length + 1)..])
                : Path.GetFullPath(link, Path.GetDirectoryName(target)!);
        }

        if (Directory.Exists(target))
        {
            // Folders in a phase folder hold data (install-types' <name>-<type>-install folders).
            return null;
        }

        if (!File.Exists(target))
        {
            return new Entry(file.Name, file.FullName, source, element, false, new Diagnostic(
                DibCodes.BadHookFile,
                $"{phase.Name}/{file.Name} of element '{element}' is a symbolic link to '{target}', which does not exist.",
                new SourceLocation(source)));
        }

        var inTree = !Path.GetRelativePath(Root, target).StartsWith("..", StringComparison.Ordinal);
        if (phase.InChroot && !inTree)
        {
            return new Entry(file.Name, file.FullName, source, element, false, new Diagnostic(
                DibCodes.BadHookFile,
                $"{phase.Name}/{file.Name} of element '{element}' links to '{target}' outside the hooks tree, which the image cannot reach. Link inside $TMP_HOOKS_PATH (relative links work on both sides).",
                new SourceLocation(source)));
        }

        return new Entry(file.Name, file.FullName, source, element, HostFiles.IsExecutable(target), null);
    }

    /// <summary>A file of an element into the tree, with its own mode or the one its library records (ElementFileModes).</summary>
    private static void Copy(string source, string target, UnixFileMode? recorded)
    {
        File.Copy(source, target, overwrite: true);
        if (recorded is { } mode)
        {
            File.SetUnixFileMode(target, mode);
        }
    }

    /// <summary>An element's files to copy: DIB's `find -follow`, without tests/ and __pycache__/ at the top.</summary>
    private static IEnumerable<string> ElementFiles(string elementDirectory)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0 };
        var topFiles = Directory.EnumerateFiles(elementDirectory, "*", options);
        var folders = Directory.EnumerateDirectories(elementDirectory, "*", options)
            .Where(d => !NotCopied.Contains(Path.GetFileName(d)))
            .SelectMany(d => Directory.EnumerateFiles(d, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }));
        return topFiles.Concat(folders).Order(StringComparer.Ordinal);
    }

    // Editor leftovers and hidden files are never hooks.
    private static bool IsScriptName(string name) =>
        !name.StartsWith('.') && !name.EndsWith('~') && !name.EndsWith(".swp", StringComparison.Ordinal)
        && !name.EndsWith(".orig", StringComparison.Ordinal);

    /// <summary>dib-run-parts runs only these names (its RUN_PARTS_REGEX default).</summary>
    [GeneratedRegex("^[0-9A-Za-z_-]+$")]
    private static partial Regex ValidName();

    [GeneratedRegex("^[0-9A-Za-z_.-]+$")]
    private static partial Regex EnvironmentName();

    [GeneratedRegex(@"^\s*-?[0-9]+")]
    private static partial Regex NumberPrefix();

    /// <summary>`find -xtype f`: a file, or a symbolic link that ends at one (File.Exists is true for a dangling link).</summary>
    private static bool IsFileOrLinkToOne(string path) =>
        new FileInfo(path) is var info && (info.LinkTarget is null ? info.Exists : info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true });


    private static bool SameContent(string a, string b)
    {
        var fa = new FileInfo(a);
        var fb = new FileInfo(b);
        return fa.Length == fb.Length && File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));
    }
}
