namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One node of a block-device configuration's graph (DIB's graph form): its unique name, the nodes it is
/// made on (its `base` edges) and where it was written.
/// </summary>
internal abstract record LayoutNode(string Name, IReadOnlyList<string> Bases, SourceLocation Where)
{
    /// <summary>The plugin's name as the YAML spells it.</summary>
    public abstract string Plugin { get; }
}
