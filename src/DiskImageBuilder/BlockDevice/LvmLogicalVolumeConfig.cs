namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// An `lvs` item: a logical volume in the volume group named by <paramref name="Base"/>, sized by
/// <paramref name="Size"/> (DIB's size units, rounded down to 4 MiB as DIB does) or by <paramref name="Extents"/>
/// (lvcreate's -l: a count or N%VG, N%FREE, N%PVS); <paramref name="Type"/> and <paramref name="ThinPool"/> as DIB's
/// `type` and `thin-pool`; options as for lvcreate.
/// </summary>
internal sealed record LvmLogicalVolumeConfig(
    string Name,
    string Base,
    string? Size = null,
    string? Extents = null,
    string? Type = null,
    string? ThinPool = null,
    IReadOnlyList<string>? Options = null,
    SourceLocation? Location = null);
