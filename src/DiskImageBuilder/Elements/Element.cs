using DiskImageBuilder.Host;

namespace DiskImageBuilder.Elements;

/// <summary>An element directory in DIB's layout.</summary>
public sealed class Element
{
    public const string DepsFile = "element-deps";
    public const string ProvidesFile = "element-provides";

    /// <summary>The host programs the element's host-side scripts run: "COMMAND DEBIAN-PACKAGE" per line.</summary>
    public const string HostToolsFile = "host-tools";

    /// <summary>DIB's package list (squashed into per-phase lists by the hooks stage).</summary>
    public const string PackageInstallsFile = "package-installs.yaml";

    /// <summary>Metadata files that describe the element and are not copied into the hooks tree.</summary>
    public static readonly IReadOnlySet<string> MetadataFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        DepsFile, ProvidesFile, HostToolsFile, PackageInstallsFile, "package-installs.json",
        "README.rst", "README.md", "README",
    };

    private Element(string name, string directory, IReadOnlyList<ElementReference> deps, IReadOnlyList<ElementReference> provides)
    {
        Name = name;
        Directory = directory;
        Dependencies = deps;
        Provides = provides;
    }

    public string Name { get; }

    /// <summary>Absolute path of the element's directory.</summary>
    public string Directory { get; }

    public IReadOnlyList<ElementReference> Dependencies { get; }

    public IReadOnlyList<ElementReference> Provides { get; }

    public static Element Load(string name, string directory)
    {
        directory = Path.GetFullPath(directory);
        return new Element(
            name,
            directory,
            ReadNameList(Path.Combine(directory, DepsFile)),
            ReadNameList(Path.Combine(directory, ProvidesFile)));
    }

    /// <summary>The host programs listed in the element's host-tools file.</summary>
    public IReadOnlyList<HostTool> HostTools()
    {
        var tools = new List<HostTool>();
        var file = Path.Combine(Directory, HostToolsFile);
        if (!File.Exists(file))
        {
            return tools;
        }

        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split('#')[0].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1)
            {
                tools.Add(new HostTool(parts[0], parts.Length > 1 ? parts[1] : parts[0]));
            }
        }

        return tools;
    }

    public static bool IsValidName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !name.Contains('/', StringComparison.Ordinal)
        && !name.Any(char.IsWhiteSpace);

    /// <summary>Reads a DIB name list: one name per line, '#' starts a comment, blank lines ignored.</summary>
    private static List<ElementReference> ReadNameList(string file)
    {
        var list = new List<ElementReference>();
        if (!File.Exists(file))
        {
            return list;
        }

        var lineNo = 0;
        foreach (var raw in File.ReadLines(file))
        {
            lineNo++;
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = hash >= 0 ? raw[..hash] : raw;
            foreach (var name in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                list.Add(new ElementReference(name, new SourceLocation(file, lineNo)));
            }
        }

        return list;
    }

    public override string ToString() => $"{Name} ({Directory})";
}
