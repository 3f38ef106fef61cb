namespace DiskImageBuilder.BlockDevice;

/// <summary>`mount`: where the filesystem of its `mkfs` base is mounted in the image.</summary>
internal sealed record MountNode(string Name, string Base, string MountPoint, SourceLocation Where) : LayoutNode(Name, [Base], Where)
{
    public override string Plugin => BlockDeviceConfigParser.Mount;
}
