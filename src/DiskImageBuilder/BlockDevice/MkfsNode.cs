namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// `mkfs`: a filesystem on its base (a partition, LV or the disk). <see cref="Label"/> is final (the
/// node's name when not given, upper-cased for vfat, as DIB); <see cref="Uuid"/> null means one made from
/// the image's name (DIB draws a random one; ours is stable so rebuilds are reproducible).
/// </summary>
internal sealed record MkfsNode(string Name, string Base, string Type, string Label, string? Options, Guid? Uuid, SourceLocation Where) : LayoutNode(Name, [Base], Where)
{
    public override string Plugin => BlockDeviceConfigParser.Mkfs;
}
