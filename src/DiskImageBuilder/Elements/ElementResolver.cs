namespace DiskImageBuilder.Elements;

/// <summary>An element the user asked for, with where they asked (the .dibproj item, a CLI argument).</summary>
/// <remarks>The location stays out of the request file: moving a line must not rebuild the image.</remarks>
public sealed record ElementRequest(string Name, [property: System.Text.Json.Serialization.JsonIgnore] SourceLocation? Location = null);

/// <summary>The resolved set: every element to install, sorted by name, and the names they provide.</summary>
public sealed record ResolvedElements(IReadOnlyList<Element> Elements, IReadOnlyDictionary<string, Element> Providers)
{
    public IEnumerable<string> Names => Elements.Select(e => e.Name);
}

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

    /// <summary>
    /// The elements of an image: the requested ones, base unless skipped, and DIB's default
    /// block-device element when an element needs `block-device` and none provides it (DIB adds
    /// block-device-mbr for `vm`; see <see cref="BlockDevice.BlockDeviceChoice"/>).
    /// </summary>
    public static ResolvedElements ResolveImage(ElementRepository repository, BuildRequest request) =>
        Resolve(repository, request.Elements, request.SkipBaseElement, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [BlockDevice.BlockDeviceChoice.Provided] = BlockDevice.BlockDeviceChoice.DefaultElement(request.Architecture, request.BootMode),
        });

    /// <param name="defaultProviders">For a provided name that some element needs and none provides, the element added to provide it.</param>
    public static ResolvedElements Resolve(ElementRepository repository, IReadOnlyList<ElementRequest> requests, bool skipBase, IReadOnlyDictionary<string, string>? defaultProviders = null)
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
        Closure closure = default!;
        var defaultsAdded = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var provided = new HashSet<string>(StringComparer.Ordinal);
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

            var defaults = closure.Missing
                .Where(m => !closure.Providers.ContainsKey(m.Name) && defaultProviders?.ContainsKey(m.Name) == true && defaultsAdded.Add(m.Name))
                .Select(m => (defaultProviders![m.Name], (Element?)null, m.Location))
                .ToList();
            if (defaults.Count == 0)
            {
                break;
            }

            roots.AddRange(defaults);
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
                + "Add the directory that holds it to ElementsPath (or ELEMENTS_PATH).",
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
}
