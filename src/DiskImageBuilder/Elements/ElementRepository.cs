namespace DiskImageBuilder.Elements;

/// <summary>
/// The elements found on an ordered search path (ElementsPath, then ELEMENTS_PATH, then the SDK's
/// own library): the first directory that holds an element of a name wins.
/// </summary>
public sealed class ElementRepository
{
    private readonly Dictionary<string, Element?> _cache = new(StringComparer.Ordinal);

    public ElementRepository(IEnumerable<string> searchPath)
    {
        SearchPath = searchPath
            .Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => Path.GetFullPath(p.Trim()))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    public IReadOnlyList<string> SearchPath { get; }

    /// <summary>Splits a ':' (DIB's ELEMENTS_PATH) or ';' (MSBuild) separated list.</summary>
    public static IEnumerable<string> SplitPathList(string? list) =>
        (list ?? string.Empty).Split([':', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public Element? Find(string name)
    {
        if (!Element.IsValidName(name))
        {
            return null;
        }

        if (_cache.TryGetValue(name, out var cached))
        {
            return cached;
        }

        Element? found = null;
        foreach (var dir in SearchPath)
        {
            var candidate = Path.Combine(dir, name);
            if (Directory.Exists(candidate))
            {
                found = Element.Load(name, candidate);
                break;
            }
        }

        _cache[name] = found;
        return found;
    }

    /// <summary>Every element on the path, the winning copy of each name, sorted by name.</summary>
    public IReadOnlyList<Element> ListAll() => [.. Names().Select(Find).OfType<Element>()];

    /// <summary>The names of the folders on the path that may be elements (cheap: nothing is loaded), sorted.</summary>
    public IReadOnlyList<string> Names() =>
        [.. SearchPath.Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(n => !n.StartsWith('.'))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
}
