namespace DiskImageBuilder.Elements;

/// <summary>
/// DIB's dependency rules: element-deps are followed transitively; a name some element provides
/// (element-provides) satisfies dependencies on it and the real element of that name is not pulled
/// in; two elements providing one name is an error; exactly one element must provide
/// operating-system. Cycles are harmless: every element is visited once.
/// </summary>
public static class ElementResolver
{
    public const string BaseElement = "base";
    public const string OperatingSystem = "operating-system";

    public static ResolvedElements Resolve(ElementRepository repository, IReadOnlyList<ElementRequest> requests, bool skipBase)
    {
        var roots = new List<(string Name, Element? Requester, SourceLocation? Location)>();
        foreach (var r in requests)
        {
            roots.Add((r.Name, null, r.Location));
        }

        if (!skipBase && !requests.Any(r => r.Name == BaseElement))
        {
            roots.Add((BaseElement, null, null));
        }

        var invalid = roots.Where(r => !Element.IsValidName(r.Name))
            .Select(r => new Diagnostic(DibCodes.InvalidElementName, $"'{r.Name}' is not a valid element name (an element is a directory name on the elements path).", r.Location))
            .ToList();
        if (invalid.Count > 0)
        {
            throw new DibException(invalid);
        }

        // Which names are provided depends on which elements are included, and the other way round:
        // iterate to a fixed point. Each round only follows what the previous round saw provided.
        var provided = new HashSet<string>(StringComparer.Ordinal);
        Closure closure = default!;
        for (var round = 0; round < 16; round++)
        {
            closure = Walk(repository, roots, provided);
            var next = closure.Providers.Keys.ToHashSet(StringComparer.Ordinal);
            if (next.SetEquals(provided))
            {
                break;
            }

            provided = next;
        }

        var errors = new List<Diagnostic>();
        errors.AddRange(closure.Conflicts);
        foreach (var (name, requester, location) in closure.Missing)
        {
            if (closure.Providers.ContainsKey(name))
            {
                continue;
            }

            var who = requester is null ? "the image" : $"element '{requester.Name}'";
            errors.Add(new Diagnostic(
                DibCodes.ElementNotFound,
                $"Element '{name}' (required by {who}) was not found on the elements path: {string.Join(":", repository.SearchPath)}. "
                + (Nearest(name, repository.Names()) is { Count: > 0 } near ? $"Did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}? " : string.Empty)
                + "If it exists elsewhere, add the directory that holds it to ElementsPath (or ELEMENTS_PATH).",
                location));
        }

        foreach (var r in requests)
        {
            if (closure.Providers.TryGetValue(r.Name, out var provider) && provider.Name != r.Name)
            {
                errors.Add(new Diagnostic(
                    DibCodes.RequestedElementIsProvided,
                    $"Element '{r.Name}' was requested explicitly but is already provided by element '{provider.Name}' ({provider.Directory}). Remove one of them.",
                    r.Location));
            }
        }

        if (errors.Count == 0 && !closure.Providers.ContainsKey(OperatingSystem))
        {
            errors.Add(new Diagnostic(
                DibCodes.NoOperatingSystem,
                $"No element provides '{OperatingSystem}'. Add an operating-system element such as 'debian-minimal' or 'debian' (elements: {string.Join(", ", closure.Included.Keys.Order(StringComparer.Ordinal))}).",
                requests.Count > 0 ? requests[0].Location : null));
        }

        if (errors.Count > 0)
        {
            throw new DibException(errors);
        }

        var elements = closure.Included.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        return new ResolvedElements(elements, closure.Providers);
    }

    private static Closure Walk(
        ElementRepository repository,
        List<(string Name, Element? Requester, SourceLocation? Location)> roots,
        HashSet<string> provided)
    {
        var included = new Dictionary<string, Element>(StringComparer.Ordinal);
        var missing = new List<(string, Element?, SourceLocation?)>();
        var missingNames = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<(string Name, Element? Requester, SourceLocation? Location)>(roots);
        while (queue.Count > 0)
        {
            var (name, requester, location) = queue.Dequeue();
            if (included.ContainsKey(name) || missingNames.Contains(name))
            {
                continue;
            }

            // A provided name is satisfied by its provider, unless the user asked for it by name.
            if (requester is not null && provided.Contains(name))
            {
                continue;
            }

            var element = repository.Find(name);
            if (element is null)
            {
                missingNames.Add(name);
                missing.Add((name, requester, location));
                continue;
            }

            included[name] = element;
            foreach (var dep in element.Dependencies)
            {
                queue.Enqueue((dep.Name, element, dep.Location));
            }
        }

        var providers = new Dictionary<string, Element>(StringComparer.Ordinal);
        var conflicts = new List<Diagnostic>();
        foreach (var element in included.Values.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            foreach (var p in element.Provides)
            {
                if (providers.TryGetValue(p.Name, out var other) && other != element)
                {
                    conflicts.Add(new Diagnostic(
                        DibCodes.DuplicateProvider,
                        $"Elements '{other.Name}' ({other.Directory}) and '{element.Name}' ({element.Directory}) both provide '{p.Name}'. Keep only one of them.",
                        p.Location));
                    continue;
                }

                providers[p.Name] = element;
            }
        }

        return new Closure(included, missing, providers, conflicts);
    }

    private sealed record Closure(
        Dictionary<string, Element> Included,
        List<(string Name, Element? Requester, SourceLocation? Location)> Missing,
        Dictionary<string, Element> Providers,
        List<Diagnostic> Conflicts);

    /// <summary>The known names closest to a typo (edit distance at most a third of its length, and 3).</summary>
    internal static IReadOnlyList<string> Nearest(string name, IEnumerable<string> known)
    {
        var limit = Math.Min(3, Math.Max(1, name.Length / 3));
        var scored = known.Distinct(StringComparer.Ordinal).Select(k => (Name: k, Distance: EditDistance(name, k))).Where(k => k.Distance <= limit).ToList();
        return scored.Count == 0 ? [] : [.. scored.Where(k => k.Distance == scored.Min(m => m.Distance)).Select(k => k.Name).Order(StringComparer.Ordinal).Take(3)];
    }

    /// <summary>Levenshtein distance, with a swap of two neighbours counting as one edit (debain → debian).</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
