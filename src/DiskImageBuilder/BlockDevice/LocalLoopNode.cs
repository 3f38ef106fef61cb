namespace DiskImageBuilder.BlockDevice;

/// <summary>`local_loop`: the disk file. <see cref="Size"/> null means the image's size (ImageSize, or what the tree needs).</summary>
internal sealed record LocalLoopNode(string Name, long? Size, string? Directory, SourceLocation Where) : LayoutNode(Name, [], Where)
{
    public override string Plugin => BlockDeviceConfigParser.LocalLoop;
}
