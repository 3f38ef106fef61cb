namespace DiskImageBuilder.BlockDevice;

/// <summary>`fstab`: the /etc/fstab line of its `mount` base (DIB's defaults: defaults, 0, 2).</summary>
internal sealed record FstabNode(string Name, string Base, string Options, string DumpFreq, string FsckPassno, SourceLocation Where) : LayoutNode(Name, [Base], Where)
{
    public override string Plugin => BlockDeviceConfigParser.Fstab;
}
