namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A planned physical volume: the byte region of the disk file it occupies (its partition), its LVM id,
/// and where its extents start. <paramref name="Index"/> is its position in the volume group (pv0, pv1, … in the metadata).
/// </summary>
internal sealed record LvmPhysicalVolume(string Name, string Base, int Index, string Id, long Offset, long Size, long PeStart, long PeCount);
