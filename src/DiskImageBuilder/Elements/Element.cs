namespace DiskImageBuilder.Elements;

/// <summary>A name an element lists in element-deps or element-provides, with the line it came from.</summary>
public sealed record ElementReference(string Name, SourceLocation Location);

/// <summary>An element directory in DIB's layout.</summary>
public sealed class Element
{
    public const string DepsFile = "element-deps";
    public const string ProvidesFile = "element-provides";

    /// <summary>Metadata files that describe the element and are not copied into the hooks tree.</summary>
    public static readonly IReadOnlySet<string> MetadataFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        DepsFile, ProvidesFile, HostTools.ElementFile, PackageInstalls.FileName, "package-installs.json",
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
