namespace DiskImageBuilder.BlockDevice;

/// <summary>`fstab`: the /etc/fstab line of its `mount` base (DIB's defaults, applied by <see cref="Fstab.Entry"/>: defaults, 0, 2).</summary>
internal sealed record FstabNode(string Name, string Base, string? Options, int? DumpFreq, int? FsckPassno, SourceLocation Where) : LayoutNode(Name, [Base], Where)
{
    public override string Plugin => BlockDeviceConfigParser.Fstab;
}
