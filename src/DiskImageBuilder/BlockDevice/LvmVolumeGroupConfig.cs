namespace DiskImageBuilder.BlockDevice;

/// <summary>A `vgs` item: a volume group on the physical volumes named by <paramref name="Base"/>; options as for vgcreate.</summary>
internal sealed record LvmVolumeGroupConfig(string Name, IReadOnlyList<string> Base, IReadOnlyList<string>? Options = null, SourceLocation? Location = null);
