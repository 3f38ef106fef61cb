using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// LVM2's on-disk format for one physical volume, as pvcreate and vgcreate write it (one metadata copy at
/// the start of the PV): sector 1 holds the label header and the PV header, the metadata area starts at
/// 4 KiB with its header and a ring buffer holding the VG's text metadata, and the extents start at pe_start.
/// </summary>
internal static class LvmMetadata
{
    public const int SectorSize = 512;

    /// <summary>Where pvcreate puts the metadata area (after the label sectors) by default.</summary>
    public const long MetadataAreaStart = 4096;

    /// <summary>pvcreate's default start of the data area: 1 MiB, which leaves the metadata area 1020 KiB.</summary>
    public const long DefaultPeStart = 1024 * 1024;

    private const int LabelSector = 1;
    private const string LabelId = "LABELONE";
    private const string LabelType = "LVM2 001";
    private const string MetadataMagic = " LVM2 x[5A%r0N*>";
    private const string CreationHost = "diskimage-builder";

    /// <summary>The bytes [0, pe_start) of one PV of <paramref name="vg"/>: label, PV header, metadata area with the VG's text.</summary>
    public static byte[] PhysicalVolumeArea(LvmVolumeGroup vg, LvmPhysicalVolume pv, byte[] text)
    {
        var area = new byte[pv.PeStart];
        var metadataSize = pv.PeStart - MetadataAreaStart;

        // Label header (32 bytes) then the PV header, in sector 1; the CRC covers the sector after the CRC field.
        var label = area.AsSpan(LabelSector * SectorSize, SectorSize);
        Encoding.ASCII.GetBytes(LabelId, label);
        BinaryPrimitives.WriteUInt64LittleEndian(label[8..], LabelSector);
        BinaryPrimitives.WriteUInt32LittleEndian(label[20..], 32);
        Encoding.ASCII.GetBytes(LabelType, label[24..]);
        var header = label[32..];
        Encoding.ASCII.GetBytes(pv.Id, header);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], (ulong)pv.Size);

        // Data areas: one at pe_start with size 0 (to the end of the device), then a null entry.
        BinaryPrimitives.WriteUInt64LittleEndian(header[40..], (ulong)pv.PeStart);

        // Metadata areas: one at 4 KiB up to pe_start, then a null entry.
        BinaryPrimitives.WriteUInt64LittleEndian(header[72..], (ulong)MetadataAreaStart);
        BinaryPrimitives.WriteUInt64LittleEndian(header[80..], (ulong)metadataSize);

        // PV header extension: version 2, flags PV_EXT_USED (the PV belongs to a VG), no bootloader areas.
        BinaryPrimitives.WriteUInt32LittleEndian(header[104..], 2);
        BinaryPrimitives.WriteUInt32LittleEndian(header[108..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(label[16..], LvmCrc.Compute(label[20..]));

        // Metadata area header, then the text one sector after it (where a fresh ring buffer starts).
        if (text.Length > metadataSize - SectorSize)
        {
            throw new DibException(DibCodes.LvmDoesNotFit, $"The metadata of volume group '{vg.Name}' ({text.Length} bytes) does not fit its metadata area ({metadataSize - SectorSize} bytes).");
        }

        var mda = area.AsSpan((int)MetadataAreaStart, SectorSize);
        Encoding.ASCII.GetBytes(MetadataMagic, mda[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(mda[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(mda[24..], (ulong)MetadataAreaStart);
        BinaryPrimitives.WriteUInt64LittleEndian(mda[32..], (ulong)metadataSize);
        BinaryPrimitives.WriteUInt64LittleEndian(mda[40..], SectorSize);
        BinaryPrimitives.WriteUInt64LittleEndian(mda[48..], (ulong)text.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(mda[56..], LvmCrc.Compute(text));
        BinaryPrimitives.WriteUInt32LittleEndian(mda, LvmCrc.Compute(mda[4..]));
        text.CopyTo(area.AsSpan((int)MetadataAreaStart + SectorSize));
        return area;
    }

    /// <summary>
    /// The VG's text metadata as LVM stores it in a metadata area (no indentation, the VG section first,
    /// since LVM reads the VG name and id from the start), ending in the NUL that LVM counts in its size.
    /// </summary>
    public static byte[] Text(LvmVolumeGroup vg, string description, long creationTime)
    {
        var s = new StringBuilder();
        void Line(FormattableString line) => s.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');

        Line($"{vg.Name} {{");
        Line($"id = \"{LvmId.Formatted(vg.Id)}\"");
        Line($"seqno = 1");
        Line($"format = \"lvm2\"");
        Line($"status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]");
        Line($"flags = []");
        Line($"extent_size = {vg.ExtentSize / SectorSize}");
        Line($"max_lv = 0");
        Line($"max_pv = 0");
        Line($"metadata_copies = 0");
        Line($"");
        Line($"physical_volumes {{");
        foreach (var pv in vg.PhysicalVolumes)
        {
            Line($"");
            Line($"pv{pv.Index} {{");
            Line($"id = \"{LvmId.Formatted(pv.Id)}\"");
            Line($"");
            Line($"status = [\"ALLOCATABLE\"]");
            Line($"flags = []");
            Line($"dev_size = {pv.Size / SectorSize}");
            Line($"pe_start = {pv.PeStart / SectorSize}");
            Line($"pe_count = {pv.PeCount}");
            Line($"}}");
        }

        Line($"}}");
        if (vg.LogicalVolumes.Count > 0)
        {
            Line($"");
            Line($"logical_volumes {{");
            foreach (var lv in vg.LogicalVolumes)
            {
                Line($"");
                Line($"{lv.Name} {{");
                Line($"id = \"{LvmId.Formatted(lv.Id)}\"");
                Line($"status = [\"READ\", \"WRITE\", \"VISIBLE\"]");
                Line($"flags = []");
                Line($"creation_time = {creationTime}");
                Line($"creation_host = \"{CreationHost}\"");
                Line($"segment_count = {lv.Segments.Count}");
                for (var i = 0; i < lv.Segments.Count; i++)
                {
                    var seg = lv.Segments[i];
                    Line($"");
                    Line($"segment{i + 1} {{");
                    Line($"start_extent = {seg.StartExtent}");
                    Line($"extent_count = {seg.ExtentCount}");
                    Line($"");
                    Line($"type = \"striped\"");
                    Line($"stripe_count = 1");
                    Line($"");
                    Line($"stripes = [");
                    Line($"\"pv{seg.PhysicalVolume.Index}\", {seg.PvStartExtent}");
                    Line($"]");
                    Line($"}}");
                }

                Line($"}}");
            }

            Line($"}}");
        }

        Line($"");
        Line($"}}");
        Line($"# Generated by DiskImageBuilder");
        Line($"");
        Line($"contents = \"Text Format Volume Group\"");
        Line($"version = 1");
        Line($"");
        Line($"description = \"{Escape(description)}\"");
        Line($"");
        Line($"creation_host = \"{CreationHost}\"");
        Line($"creation_time = {creationTime}");
        Line($"");
        s.Append('\0');
        return Encoding.UTF8.GetBytes(s.ToString());
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
