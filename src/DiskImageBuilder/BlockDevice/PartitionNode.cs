namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One entry of a `partitioning` list. Its edges are the disk and the partition before it (DIB's order).
/// <see cref="TypeCode"/> is the entry's `type` as written (MBR: one hex byte; GPT: sgdisk's four hex digits), null for Linux.
/// </summary>
internal sealed record PartitionNode(string Name, string Disk, string? Previous, LayoutSize Size, bool Boot, bool Primary, string? TypeCode, SourceLocation Where)
    : LayoutNode(Name, Previous is null ? [Disk] : [Disk, Previous], Where)
{
    public override string Plugin => BlockDeviceConfigParser.Partitioning;
}
