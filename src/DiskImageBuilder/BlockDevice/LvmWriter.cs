using System.Globalization;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Writes planned LVM volumes into a disk file without LVM's tools or device-mapper (this host has
/// neither working): each PV's label, header and metadata area with its VG's text metadata, and the
/// first 4 KiB of each LV zeroed as lvcreate does. The LVs' bytes are then the caller's to fill through
/// <see cref="LogicalVolume.Extents"/>.
/// </summary>
internal static class LvmWriter
{
    private const int LvZeroBytes = 4096;

    /// <summary>Plans and writes <paramref name="config"/> into <paramref name="diskFile"/> (which must already hold the partitions).</summary>
    public static LvmVolumes Write(string diskFile, LvmConfig config, IReadOnlyDictionary<string, (long Offset, long Length)> partitions, string imageName, long creationTime)
    {
        var volumes = LvmPlanner.Plan(config, partitions, imageName);
        Write(diskFile, volumes, imageName, creationTime);
        return volumes;
    }

    /// <summary>Writes planned <paramref name="volumes"/> into <paramref name="diskFile"/>.</summary>
    public static void Write(string diskFile, LvmVolumes volumes, string imageName, long creationTime)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        using var disk = new FileStream(diskFile, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var end = volumes.VolumeGroups.SelectMany(v => v.PhysicalVolumes).Max(p => p.Offset + p.Size);
        if (disk.Length < end)
        {
            throw new DibException(DibCodes.DiskFileMismatch, $"{diskFile} is {disk.Length} bytes; its LVM physical volumes reach byte {end}.");
        }

        foreach (var vg in volumes.VolumeGroups)
        {
            var text = LvmMetadata.Text(vg, $"Written by DiskImageBuilder for image {imageName}", creationTime);
            foreach (var pv in vg.PhysicalVolumes)
            {
                disk.Position = pv.Offset;
                disk.Write(LvmMetadata.PhysicalVolumeArea(vg, pv, text));
            }

            var zeros = new byte[LvZeroBytes];
            foreach (var lv in vg.LogicalVolumes)
            {
                disk.Position = lv.Segments[0].Offset;
                disk.Write(zeros, 0, (int)Math.Min(zeros.Length, lv.Segments[0].Length));
            }
        }

        disk.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Fails before any disk work when an image with LVM volumes has no lvm tool: its initramfs could not
    /// activate the volume group, so it would not boot (as DIB's lvm element checks for lvm2).
    /// </summary>
    public static void RequireLvmTool(string tree, LvmConfig config)
    {
        if (!File.Exists(Path.Combine(tree, "usr/sbin/lvm")) && !File.Exists(Path.Combine(tree, "sbin/lvm")))
        {
            throw new DibException(
                DibCodes.LvmToolMissing,
                $"The block-device configuration has LVM volumes (lvm entry '{config.Name}') but the image has no /usr/sbin/lvm, so it could not activate them at boot. Add the 'lvm' element (it installs lvm2 and its initramfs hook).",
                config.Location);
        }
    }

    /// <summary>The creation time LVM records: SOURCE_DATE_EPOCH when set (reproducible builds), else now.</summary>
    public static long CreationTime(string? sourceDateEpoch) =>
        long.TryParse(sourceDateEpoch, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) ? epoch : DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
