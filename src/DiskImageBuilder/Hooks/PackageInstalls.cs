using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiskImageBuilder.Hooks;

/// <summary>
/// Squashes every element's package-installs.yaml (DIB's schema) plus the image's own package list
/// into one list per phase. The package-installs element turns each list into one package-manager
/// transaction, reading <c>$TMP_HOOKS_PATH/.dib/package-installs/&lt;phase&gt;</c>: one
/// "install NAME" or "uninstall NAME" per line.
/// </summary>
internal static class PackageInstalls
{
    public const string FileName = Element.PackageInstallsFile;
    public const string ListDirectory = ".dib/package-installs";

    /// <summary>The phases that may install packages (they run inside the image).</summary>
    public static readonly IReadOnlyList<Phase> Phases = [Phase.PreInstall, Phase.Install, Phase.PostInstall];

    public static Dictionary<string, List<PackageAction>> Squash(
        IEnumerable<Element> elements,
        IEnumerable<string> imagePackages,
        string architecture,
        IReadOnlyDictionary<string, string> environment)
    {
        var lists = Phases.ToDictionary(p => p.Name, _ => new List<PackageAction>(), StringComparer.Ordinal);
        foreach (var element in elements)
        {
            var file = Path.Combine(element.Directory, FileName);
            if (File.Exists(file))
            {
                AddElement(lists, element.Name, file, architecture, InstallType(element.Name, environment));
            }
        }

        foreach (var p in imagePackages.Where(p => !string.IsNullOrWhiteSpace(p)))
        {
            lists[Phase.Install.Name].Add(new PackageAction(p.Trim(), false, "(image)"));
        }

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
                actions.Select(a => $"{(a.Uninstall ? "uninstall" : "install")} {a.Package}").Distinct(StringComparer.Ordinal));
        }
    }

    // DIB: an entry with installtype X applies only when the element's install type is X.
    private static string InstallType(string element, IReadOnlyDictionary<string, string> env) =>
        env.GetValueOrDefault($"DIB_INSTALLTYPE_{element.Replace('-', '_')}")
        ?? env.GetValueOrDefault("DIB_DEFAULT_INSTALLTYPE")
        ?? "source";

    private static void AddElement(Dictionary<string, List<PackageAction>> lists, string element, string file, string arch, string installType)
    {
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(file);
            yaml.Load(reader);
        }
        catch (YamlException ex)
        {
            throw Bad(file, (int)ex.Start.Line, $"is not valid YAML: {ex.Message}");
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
                YamlScalarNode { Value: null or "" } => [new YamlMappingNode()],
                YamlMappingNode m => [m],
                YamlSequenceNode s when s.Children.All(c => c is YamlMappingNode) => s.Children.Cast<YamlMappingNode>().ToList(),
                _ => throw Bad(file, (int)valueNode.Start.Line, $"package '{package}' must have no value, a mapping of options or a list of mappings."),
            };
            foreach (var entry in entries)
            {
                AddEntry(lists, element, file, package, entry, arch, installType);
            }
        }
    }

    private static void AddEntry(
        Dictionary<string, List<PackageAction>> lists, string element, string file, string package,
        YamlMappingNode entry, string arch, string installType)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in entry.Children)
        {
            var key = ((YamlScalarNode)k).Value ?? string.Empty;
            if (key is not ("phase" or "uninstall" or "arch" or "not-arch" or "installtype" or "build-only" or "dib_python_version"))
            {
                throw Bad(file, (int)k.Start.Line, $"package '{package}' has unknown option '{key}' (known: phase, uninstall, arch, not-arch, installtype, build-only).");
            }

            options[key] = (v as YamlScalarNode)?.Value ?? string.Empty;
        }

        var line = (int)entry.Start.Line;
        var phase = options.GetValueOrDefault("phase", Phase.Install.Name);
        if (!lists.TryGetValue(phase, out var phaseList))
        {
            throw Bad(file, line, $"package '{package}' names phase '{phase}'; packages install in {string.Join(", ", Phases)}.");
        }

        if (options.TryGetValue("arch", out var only) && !ArchList(only).Contains(arch))
        {
            return;
        }

        if (options.TryGetValue("not-arch", out var not) && ArchList(not).Contains(arch))
        {
            return;
        }

        if (options.TryGetValue("installtype", out var type) && type != installType)
        {
            return;
        }

        var uninstall = IsTrue(options.GetValueOrDefault("uninstall"));
        phaseList.Add(new PackageAction(package, uninstall, element));
        if (IsTrue(options.GetValueOrDefault("build-only")))
        {
            if (phase == Phase.PostInstall.Name)
            {
                throw Bad(file, line, $"build-only package '{package}' is removed at the end of post-install.d, so it must install in an earlier phase.");
            }

            lists[Phase.PostInstall.Name].Add(new PackageAction(package, true, element));
        }
    }

    private static HashSet<string> ArchList(string value) =>
        value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    private static bool IsTrue(string? value) => value is "true" or "True" or "yes" or "1";

    private static DibException Bad(string file, int line, string message) =>
        new(DibCodes.BadPackageInstalls, $"{Path.GetFileName(file)} {message}", new SourceLocation(file, line));
}
