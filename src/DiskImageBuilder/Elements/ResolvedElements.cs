namespace DiskImageBuilder.Elements;

/// <summary>The resolved set: every element to install, sorted by name, and the names they provide.</summary>
public sealed record ResolvedElements(IReadOnlyList<Element> Elements, IReadOnlyDictionary<string, Element> Providers)
{
    public IEnumerable<string> Names => Elements.Select(e => e.Name);
}
