using System.Text.RegularExpressions;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiskImageBuilder;

/// <summary>
/// One package action for one phase: install, or (uninstall: true) remove. <see cref="Element"/>
/// names the element whose pkg-map translates the name; null for the image's own packages, which
/// are used as given (as DIB's -p packages are).
/// </summary>
/// <see cref="BuildOnly"/> marks a build-only package's install and its removal after post-install.d.
public sealed record PackageAction(string Package, bool Uninstall, string? Element, bool BuildOnly = false);

/// <summary>
/// Squashes every element's package-installs.yaml / .json (DIB's schema) plus the image's own
/// package list into one list per phase, with DIB's selection rules (phase, uninstall, build-only,
/// installtype, arch / not-arch, dib_python_version, when). The package-installs element turns
/// each list into one package-manager transaction, reading
/// <c>$TMP_HOOKS_PATH/.dib/package-installs/&lt;phase&gt;</c>: one "install NAME ELEMENT" or
/// "uninstall NAME ELEMENT" per line, and maps each element's names with that element's pkg-map
/// inside the image (the pkg-map command is the one place names are translated).
/// </summary>
public static partial class PackageInstalls
{
    public const string FileName = "package-installs.yaml";
    public const string JsonFileName = "package-installs.json";
    public const string ListDirectory = ".dib/package-installs";

    /// <summary>The phases that may install packages (they run inside the image).</summary>
    public static readonly IReadOnlyList<Phase> Phases = [Phase.PreInstall, Phase.Install, Phase.PostInstall];

    private static readonly HashSet<string> Options = new(StringComparer.Ordinal)
    {
        "phase", "uninstall", "arch", "not-arch", "installtype", "build-only", "dib_python_version", "when",
    };

    /// <param name="environment">
    /// The variables as a host hook sees them after environment.d (DIB evaluates these rules in
    /// extra-data.d): <c>when:</c>, <c>DIB_PYTHON_VERSION</c> and the install types are read from it.
    /// </param>
    public static Dictionary<string, List<PackageAction>> Squash(
        IEnumerable<Element> elements,
        IEnumerable<string> imagePackages,
        string architecture,
        IReadOnlyDictionary<string, string> environment)
    {
        var lists = Phases.ToDictionary(p => p.Name, _ => new List<PackageAction>(), StringComparer.Ordinal);
        foreach (var element in elements)
        {
            // DIB reads both files when an element has both, JSON first.
            foreach (var name in (string[])[JsonFileName, FileName])
            {
                var file = Path.Combine(element.Directory, name);
                if (File.Exists(file))
                {
                    AddElement(lists, element.Name, file, architecture, environment);
                }
            }
        }

        foreach (var p in imagePackages.Where(p => !string.IsNullOrWhiteSpace(p)))
        {
            Add(lists[Phase.Install.Name], new PackageAction(p.Trim(), false, null));
        }

        // A build-only package stays when something installs it for good (DIB keeps it too).
        var kept = lists.Values.SelectMany(l => l).Where(a => !a.Uninstall && !a.BuildOnly).Select(a => a.Package).ToHashSet(StringComparer.Ordinal);
        lists[Phase.PostInstall.Name].RemoveAll(a => a.Uninstall && a.BuildOnly && kept.Contains(a.Package));
        return lists;
    }

    /// <summary>Writes one list file per phase under the hooks tree.</summary>
    public static void Write(string hooksRoot, Dictionary<string, List<PackageAction>> lists)
    {
        var dir = Path.Combine(hooksRoot, ListDirectory);
        Directory.CreateDirectory(dir);
        foreach (var (phase, actions) in lists)
        {
            File.WriteAllLines(
                Path.Combine(dir, phase),
                actions.Select(a => $"{(a.Uninstall ? "uninstall" : "install")} {a.Package}{(a.Element is null ? "" : " " + a.Element)}").Distinct(StringComparer.Ordinal));
        }
    }

    /// <summary>DIB: an element's install type is DIB_INSTALLTYPE_&lt;name with '-' as '_'&gt;, else DIB_DEFAULT_INSTALLTYPE, else source.</summary>
    public static string InstallType(string element, IReadOnlyDictionary<string, string> env) =>
        env.GetValueOrDefault($"DIB_INSTALLTYPE_{element.Replace('-', '_')}")
        ?? env.GetValueOrDefault("DIB_DEFAULT_INSTALLTYPE")
        ?? "source";

    // Installing a package wins over removing it in the same phase, whichever element asks first
    // (DIB's squash): a plain install drops earlier removals of that name.
    private static void Add(List<PackageAction> phase, PackageAction action)
    {
        if (!action.Uninstall)
        {
            phase.RemoveAll(a => a.Uninstall && a.Package == action.Package);
        }

        phase.Add(action);
    }

    private static void AddElement(Dictionary<string, List<PackageAction>> lists, string element, string file, string arch, IReadOnlyDictionary<string, string> env)
    {
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(file);
            yaml.Load(reader);
        }
        catch (YamlException ex)
        {
            throw Bad(file, (int)ex.Start.Line, $"is not valid {(file.EndsWith(".json", StringComparison.Ordinal) ? "JSON" : "YAML")}: {ex.Message}");
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return;
        }

        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw Bad(file, (int)yaml.Documents[0].RootNode.Start.Line, "must be a mapping of package names to options.");
        }

        foreach (var (keyNode, valueNode) in root.Children)
        {
            var package = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            var entries = valueNode switch
            {
                YamlScalarNode { Value: null or "" or "null" or "~" } => [new YamlMappingNode()],
                YamlMappingNode m => [m],
                YamlSequenceNode s when s.Children.All(c => c is YamlMappingNode) => s.Children.Cast<YamlMappingNode>().ToList(),
                _ => throw Bad(file, (int)valueNode.Start.Line, $"package '{package}' must have no value, a mapping of options or a list of mappings."),
            };
            foreach (var entry in entries)
            {
                AddEntry(lists, element, file, package, entry, arch, env);
            }
        }
    }

    private static void AddEntry(
        Dictionary<string, List<PackageAction>> lists, string element, string file, string package,
        YamlMappingNode entry, string arch, IReadOnlyDictionary<string, string> env)
    {
        var options = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (k, v) in entry.Children)
        {
            var key = ((YamlScalarNode)k).Value ?? string.Empty;
            if (!Options.Contains(key))
            {
                throw Bad(file, (int)k.Start.Line, $"package '{package}' has unknown option '{key}' (known: {string.Join(", ", Options)}).");
            }

            options[key] = v;
        }

        string? Scalar(string key) => options.TryGetValue(key, out var node)
            ? node as YamlScalarNode is { } s ? s.Value ?? string.Empty
                : throw Bad(file, (int)node.Start.Line, $"package '{package}': '{key}' must be a single value.")
            : null;

        var line = (int)entry.Start.Line;
        var phase = Scalar("phase") ?? Phase.Install.Name;
        if (!lists.TryGetValue(phase, out var phaseList))
        {
            throw Bad(file, line, $"package '{package}' names phase '{phase}'; packages install in {string.Join(", ", Phases)}.");
        }

        var only = Scalar("arch");
        var not = Scalar("not-arch");
        if (only is not null && not is not null)
        {
            throw Bad(file, line, $"package '{package}' gives both 'arch' and 'not-arch'; give one of them.");
        }

        if ((only is not null && !ArchList(only).Contains(arch)) || (not is not null && ArchList(not).Contains(arch)))
        {
            return;
        }

        if (Scalar("installtype") is { } type && type != InstallType(element, env))
        {
            return;
        }

        // Entries for one Python major version apply when dib-python (or the user) chose that version.
        if (Scalar("dib_python_version") is { Length: > 0 } python && python != env.GetValueOrDefault("DIB_PYTHON_VERSION", string.Empty))
        {
            return;
        }

        if (options.TryGetValue("when", out var when) && !When(when, file, package, env))
        {
            return;
        }

        var uninstall = IsTrue(Scalar("uninstall"));
        var buildOnly = IsTrue(Scalar("build-only"));
        if (uninstall && phaseList.Any(a => !a.Uninstall && a.Package == package))
        {
            // DIB: a removal asked for after another element installs the name is dropped.
            return;
        }

        buildOnly &= !uninstall;
        if (buildOnly && phase == Phase.PostInstall.Name)
        {
            throw Bad(file, line, $"build-only package '{package}' is removed at the start of post-install.d, so it must install in an earlier phase.");
        }

        Add(phaseList, new PackageAction(package, uninstall, element, buildOnly));
        if (buildOnly)
        {
            lists[Phase.PostInstall.Name].Add(new PackageAction(package, true, element, BuildOnly: true));
        }
    }

    /// <summary>
    /// DIB's <c>when:</c>: "VARIABLE = value" or "VARIABLE != value" (spaces optional), or a list of
    /// them that must all hold. A variable that is not set is an error, as in DIB: give it a default
    /// in an environment.d file.
    /// </summary>
    private static bool When(YamlNode node, string file, string package, IReadOnlyDictionary<string, string> env)
    {
        IEnumerable<YamlNode> statements = node is YamlSequenceNode list ? list.Children : [node];
        foreach (var statement in statements)
        {
            var text = (statement as YamlScalarNode)?.Value;
            var match = text is null ? Match.Empty : WhenStatement().Match(text);
            if (!match.Success)
            {
                throw Bad(file, (int)statement.Start.Line, $"package '{package}': 'when: {text}' is not 'VARIABLE = value' or 'VARIABLE != value'.");
            }

            var name = match.Groups["var"].Value;
            if (!env.TryGetValue(name, out var actual))
            {
                throw new DibException(
                    DibCodes.WhenVariableNotSet,
                    $"{Path.GetFileName(file)}: package '{package}' has 'when: {text}', but {name} is not set. Set it for the build, or give it a default in an environment.d file.",
                    new SourceLocation(file, (int)statement.Start.Line));
            }

            var equal = actual == match.Groups["value"].Value;
            if (equal != (match.Groups["op"].Value == "="))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"^(?<var>\w+)\s*(?<op>=|!=)\s*(?<value>.*)$")]
    private static partial Regex WhenStatement();

    private static HashSet<string> ArchList(string value) =>
        value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    private static bool IsTrue(string? value) => value is "true" or "True" or "TRUE" or "yes" or "Yes" or "1";

    private static DibException Bad(string file, int line, string message) =>
        new(DibCodes.BadPackageInstalls, $"{Path.GetFileName(file)} {message}", new SourceLocation(file, line));
}
