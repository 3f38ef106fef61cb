namespace DiskImageBuilder.BlockDevice;

/// <summary>A `pvs` item: a physical volume made on the partition named by <paramref name="Base"/>; options as for pvcreate.</summary>
internal sealed record LvmPhysicalVolumeConfig(string Name, string Base, IReadOnlyList<string>? Options = null, SourceLocation? Location = null);
