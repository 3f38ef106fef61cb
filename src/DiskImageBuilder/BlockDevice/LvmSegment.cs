namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One linear segment of a logical volume: <paramref name="ExtentCount"/> extents starting at the LV's
/// <paramref name="StartExtent"/>, stored on physical volume <paramref name="PhysicalVolume"/> from its
/// extent <paramref name="PvStartExtent"/>; <paramref name="Offset"/>/<paramref name="Length"/> are the same bytes in the disk file.
/// </summary>
internal sealed record LvmSegment(long StartExtent, long ExtentCount, LvmPhysicalVolume PhysicalVolume, long PvStartExtent, long Offset, long Length);
