using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Plans and writes MBR and GPT partition tables straight into a disk file. The build host has no
/// partition scanning and no device-mapper, so no kernel or external tool is involved.
/// </summary>
internal static class PartitionTable
{
    /// <summary>Every partition starts on a 1 MiB boundary, the first at 1 MiB; every size is a whole number of MiB.</summary>
    public const long Alignment = 1024 * 1024;

    public const int SectorSize = 512;

    /// <summary>Only the first 440 bytes of sector 0 belong to the boot loader; the table fields start here.</summary>
    public const int BootCodeSize = 0x1B8;

    private const long AlignmentSectors = Alignment / SectorSize;
    private const int MbrMaxPartitions = 4;
    private const int MbrEntriesOffset = 0x1BE;
    private const int GptEntryCount = 128;
    private const int GptEntrySize = 128;
    private const int GptHeaderSize = 92;
    private const int GptNameChars = 36;
    private const int GptEntriesSectors = GptEntryCount * GptEntrySize / SectorSize;

    /// <summary>Sectors GPT needs at the end of the disk: the backup entries and the backup header.</summary>
    private const int GptBackupSectors = GptEntriesSectors + 1;

    private const ulong GptLegacyBiosBootable = 1UL << 2;

    private static readonly Guid LinuxFilesystemType = new("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    private static readonly Guid EfiSystemType = new("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    private static readonly Guid BiosBootType = new("21686148-6449-6E6F-744E-656564454649");

    /// <summary>
    /// Lays the partitions out in order: the first at 1 MiB, each size rounded up to whole MiB so the
    /// next one starts aligned; a size-0 last partition takes the whole MiB left up to the end of the
    /// disk (GPT: up to the backup entries) and must get at least 1 MiB. GUIDs and the MBR signature come
    /// from <paramref name="seed"/> unless given.
    /// </summary>
    public static PartitionLayout Plan(
        PartitionTableType type,
        long diskSizeBytes,
        IReadOnlyList<PartitionSpec> specs,
        string seed,
        Guid? diskGuid = null,
        uint? mbrSignature = null)
    {
        ArgumentNullException.ThrowIfNull(seed);
        Validate(type, specs);
        if (diskSizeBytes <= 0 || diskSizeBytes % SectorSize != 0)
        {
            throw Invalid($"The disk size must be a positive whole number of {SectorSize}-byte sectors; it is {diskSizeBytes} bytes.");
        }

        var lastUsable = LastUsableSector(type, diskSizeBytes / SectorSize);
        var partitions = new List<Partition>(specs.Count);
        var start = AlignmentSectors;
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            // The rest-of-disk partition also ends on a MiB boundary (whole-MiB size; no tool warns about its end).
            var count = spec.SizeBytes == 0
                ? (lastUsable + 1 - start) / AlignmentSectors * AlignmentSectors
                : AlignUp(spec.SizeBytes) / SectorSize;
            if (count < (spec.SizeBytes == 0 ? AlignmentSectors : 1) || start + count - 1 > lastUsable)
            {
                throw DoesNotFit(type, specs, diskSizeBytes);
            }

            // MBR entries hold 32-bit sector numbers.
            if (type == PartitionTableType.Mbr && start + count - 1 > uint.MaxValue)
            {
                throw Invalid($"Partition '{spec.Name}' would end past 2 TiB, which an MBR table cannot address; use a GPT table.");
            }

            partitions.Add(new Partition(i + 1, spec.Name, spec.Kind, start, count, StableGuid.From($"{seed}:partition:{spec.Name}"), spec.Bootable));
            start += count;
        }

        var signature = mbrSignature ?? BinaryPrimitives.ReadUInt32LittleEndian(StableGuid.From($"{seed}:mbr-signature").ToByteArray());
        return new PartitionLayout(type, diskSizeBytes, diskGuid ?? StableGuid.From($"{seed}:disk"), signature, partitions);
    }

    /// <summary>
    /// The smallest disk (a whole number of MiB) that <see cref="Plan"/> accepts for these partitions;
    /// a size-0 last partition counts as <paramref name="minimumRestBytes"/> (at least 1 MiB).
    /// </summary>
    public static long RequiredDiskSize(PartitionTableType type, IReadOnlyList<PartitionSpec> specs, long minimumRestBytes = Alignment)
    {
        Validate(type, specs);
        var end = Alignment;
        foreach (var spec in specs)
        {
            end += AlignUp(spec.SizeBytes == 0 ? Math.Max(minimumRestBytes, Alignment) : spec.SizeBytes);
        }

        return AlignUp(type == PartitionTableType.Gpt ? end + (GptBackupSectors * SectorSize) : end);
    }

    /// <summary>
    /// Writes the table into an existing disk file of exactly <see cref="PartitionLayout.DiskSizeBytes"/>.
    /// Bytes 0..0x1B7 of sector 0 (boot code) are kept as found, so the boot loader may be installed
    /// before or after; only the table sectors are written, so a sparse file stays sparse.
    /// </summary>
    public static void Write(string diskFile, PartitionLayout layout)
    {
        ArgumentNullException.ThrowIfNull(diskFile);
        ArgumentNullException.ThrowIfNull(layout);
        if (!File.Exists(diskFile))
        {
            throw new DibException(DibCodes.DiskFileMismatch, $"The disk file '{diskFile}' does not exist.");
        }

        // The stream's length, not FileInfo's: the scratch disk is reached through a /proc/PID/fd link.
        using var disk = new FileStream(diskFile, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        if (disk.Length != layout.DiskSizeBytes)
        {
            throw new DibException(
                DibCodes.DiskFileMismatch,
                $"The disk file '{diskFile}' is {disk.Length} bytes but the partition layout was planned for {layout.DiskSizeBytes} bytes.");
        }

        var sectors = layout.DiskSizeBytes / SectorSize;
        if (layout.Type == PartitionTableType.Mbr)
        {
            WriteMbr(disk, layout);
            ClearStaleGptHeader(disk, 1);
            ClearStaleGptHeader(disk, sectors - 1);
        }
        else
        {
            WriteGpt(disk, layout, sectors);
        }

        disk.Flush(flushToDisk: true);
    }

    private static void WriteMbr(FileStream disk, PartitionLayout layout)
    {
        var mbr = ReadSector(disk, 0);
        ClearTableFields(mbr, layout.MbrSignature);
        foreach (var p in layout.Partitions.Where(p => !p.Logical).Append(layout.Extended).OfType<Partition>())
        {
            WriteMbrEntry(mbr.AsSpan(MbrEntriesOffset + ((p.Number - 1) * 16), 16), p.Bootable, MbrType(p), p.StartSector, p.SectorCount);
        }

        WriteAt(disk, 0, mbr);

        // Logical partitions: a chain of EBRs, each with the partition (relative to its EBR) and a link
        // to the next EBR (relative to the extended partition's start), as DIB writes them.
        var logical = layout.Partitions.Where(p => p.Logical).ToList();
        for (var i = 0; i < logical.Count; i++)
        {
            var p = logical[i];
            var ebr = new byte[SectorSize];
            ebr[0x1FE] = 0x55;
            ebr[0x1FF] = 0xAA;
            WriteMbrEntry(ebr.AsSpan(MbrEntriesOffset, 16), p.Bootable, MbrType(p), p.StartSector - p.EbrSector, p.SectorCount, chsStart: p.StartSector);
            if (i + 1 < logical.Count)
            {
                var next = logical[i + 1];
                WriteMbrEntry(ebr.AsSpan(MbrEntriesOffset + 16, 16), bootable: false, 0x05, next.EbrSector - layout.Extended!.StartSector, next.EbrSpan, chsStart: next.EbrSector);
            }

            WriteAt(disk, p.EbrSector, ebr);
        }
    }

    private static byte MbrType(Partition p) => p.MbrType ?? p.Kind switch
    {
        PartitionKind.LinuxFilesystem => (byte)0x83,
        PartitionKind.EfiSystem => (byte)0xEF,
        _ => throw Invalid($"Partition '{p.Name}': {p.Kind} partitions exist only in GPT tables."),
    };

    private static void WriteGpt(FileStream disk, PartitionLayout layout, long sectors)
    {
        // Protective MBR: one 0xEE entry over the whole disk (capped at 32 bits) so MBR-only tools keep off.
        var mbr = ReadSector(disk, 0);
        ClearTableFields(mbr, signature: 0);
        WriteMbrEntry(mbr.AsSpan(MbrEntriesOffset, 16), bootable: false, 0xEE, 1, Math.Min(sectors - 1, uint.MaxValue));
        WriteAt(disk, 0, mbr);

        var entries = new byte[GptEntryCount * GptEntrySize];
        foreach (var p in layout.Partitions)
        {
            var e = entries.AsSpan((p.Number - 1) * GptEntrySize, GptEntrySize);
            (p.GptType ?? TypeGuid(p.Kind)).TryWriteBytes(e[..16]);
            p.PartitionGuid.TryWriteBytes(e[16..32]);
            BinaryPrimitives.WriteInt64LittleEndian(e[32..], p.StartSector);
            BinaryPrimitives.WriteInt64LittleEndian(e[40..], p.EndSector);
            BinaryPrimitives.WriteUInt64LittleEndian(e[48..], p.Bootable ? GptLegacyBiosBootable : 0);
            Encoding.Unicode.GetBytes(p.Name, e[56..]);
        }

        var entriesCrc = System.IO.Hashing.Crc32.HashToUInt32(entries);
        var backupEntries = sectors - GptBackupSectors;
        var firstUsable = 2L + GptEntriesSectors;
        var lastUsable = LastUsableSector(PartitionTableType.Gpt, sectors);
        WriteAt(disk, 2, entries);
        WriteAt(disk, 1, GptHeader(1, sectors - 1, firstUsable, lastUsable, layout.DiskGuid, 2, entriesCrc));
        WriteAt(disk, backupEntries, entries);
        WriteAt(disk, sectors - 1, GptHeader(sectors - 1, 1, firstUsable, lastUsable, layout.DiskGuid, backupEntries, entriesCrc));
    }

    private static byte[] GptHeader(long myLba, long alternateLba, long firstUsable, long lastUsable, Guid diskGuid, long entriesLba, uint entriesCrc)
    {
        var h = new byte[SectorSize];
        "EFI PART"u8.CopyTo(h);
        var s = h.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], 0x00010000);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], GptHeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(s[24..], myLba);
        BinaryPrimitives.WriteInt64LittleEndian(s[32..], alternateLba);
        BinaryPrimitives.WriteInt64LittleEndian(s[40..], firstUsable);
        BinaryPrimitives.WriteInt64LittleEndian(s[48..], lastUsable);
        diskGuid.TryWriteBytes(s[56..72]);
        BinaryPrimitives.WriteInt64LittleEndian(s[72..], entriesLba);
        BinaryPrimitives.WriteUInt32LittleEndian(s[80..], GptEntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(s[84..], GptEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(s[88..], entriesCrc);

        // The header CRC covers the header with its own CRC field still zero.
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], System.IO.Hashing.Crc32.HashToUInt32(s[..GptHeaderSize]));
        return h;
    }

    /// <summary>Resets everything in sector 0 after the boot code: signature, the four entries and 0x55AA.</summary>
    private static void ClearTableFields(byte[] mbr, uint signature)
    {
        mbr.AsSpan(BootCodeSize).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(mbr.AsSpan(BootCodeSize), signature);
        mbr[0x1FE] = 0x55;
        mbr[0x1FF] = 0xAA;
    }

    /// <param name="chsStart">The absolute sector the CHS fields describe, when <paramref name="start"/> is relative (EBR entries).</param>
    private static void WriteMbrEntry(Span<byte> entry, bool bootable, byte type, long start, long count, long? chsStart = null)
    {
        entry[0] = bootable ? (byte)0x80 : (byte)0x00;
        WriteChs(entry[1..4], chsStart ?? start);
        entry[4] = type;
        WriteChs(entry[5..8], (chsStart ?? start) + count - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)start);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)count);
    }

    /// <summary>CHS in the usual 255-head, 63-sector geometry; past its reach the conventional 1023/254/63.</summary>
    private static void WriteChs(Span<byte> chs, long lba)
    {
        const int heads = 255;
        const int sectorsPerTrack = 63;
        if (lba >= 1024L * heads * sectorsPerTrack)
        {
            chs[0] = 0xFE;
            chs[1] = 0xFF;
            chs[2] = 0xFF;
            return;
        }

        var cylinder = lba / (heads * sectorsPerTrack);
        var head = lba / sectorsPerTrack % heads;
        var sector = (lba % sectorsPerTrack) + 1;
        chs[0] = (byte)head;
        chs[1] = (byte)(sector | ((cylinder >> 2) & 0xC0));
        chs[2] = (byte)(cylinder & 0xFF);
    }

    /// <summary>A GPT header left from an earlier write would make tools see two tables; only a sector that carries one is touched.</summary>
    private static void ClearStaleGptHeader(FileStream disk, long lba)
    {
        if (ReadSector(disk, lba).AsSpan().StartsWith("EFI PART"u8))
        {
            WriteAt(disk, lba, new byte[SectorSize]);
        }
    }

    private static Guid TypeGuid(PartitionKind kind) => kind switch
    {
        PartitionKind.LinuxFilesystem => LinuxFilesystemType,
        PartitionKind.EfiSystem => EfiSystemType,
        PartitionKind.BiosBoot => BiosBootType,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static long LastUsableSector(PartitionTableType type, long sectors) =>
        type == PartitionTableType.Gpt ? sectors - GptBackupSectors - 1 : sectors - 1;

    private static void Validate(PartitionTableType type, IReadOnlyList<PartitionSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var max = type == PartitionTableType.Mbr ? MbrMaxPartitions : GptEntryCount;
        if (specs.Count > max)
        {
            throw Invalid($"A {type.ToString().ToUpperInvariant()} table holds at most {max} partitions; {specs.Count} were given.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            if (string.IsNullOrEmpty(spec.Name))
            {
                throw Invalid($"Partition {i + 1} has no name.");
            }

            // Partition GUIDs derive from the name, so two equal names would share one.
            if (!names.Add(spec.Name))
            {
                throw Invalid($"Two partitions are named '{spec.Name}'.");
            }

            if (type == PartitionTableType.Gpt && spec.Name.Length > GptNameChars)
            {
                throw Invalid($"Partition name '{spec.Name}' is longer than the {GptNameChars} characters a GPT entry holds.");
            }

            if (spec.SizeBytes < 0)
            {
                throw Invalid($"Partition '{spec.Name}' has a negative size ({spec.SizeBytes} bytes).");
            }

            if (spec.SizeBytes == 0 && i != specs.Count - 1)
            {
                throw Invalid($"Partition '{spec.Name}' has size 0 (the rest of the disk) but is not the last partition; only the last may.");
            }

            if (type == PartitionTableType.Mbr && spec.Kind == PartitionKind.BiosBoot)
            {
                throw Invalid($"Partition '{spec.Name}' is a BIOS boot partition, which exists only in GPT tables; on MBR, GRUB lives in the gap before the first partition.");
            }
        }
    }

    private static DibException DoesNotFit(PartitionTableType type, IReadOnlyList<PartitionSpec> specs, long diskSizeBytes)
    {
        var required = RequiredDiskSize(type, specs);
        var parts = string.Join(", ", specs.Select(s => $"{s.Name} {(s.SizeBytes == 0 ? "rest (at least 1 MiB)" : Mib(s.SizeBytes))}"));
        return new DibException(
            DibCodes.PartitionLayoutDoesNotFit,
            $"The {type.ToString().ToUpperInvariant()} partition layout ({parts}) does not fit: the disk must be at least {Mib(required)} ({required} bytes) but is {Mib(diskSizeBytes)} ({diskSizeBytes} bytes).");
    }

    private static DibException Invalid(string message) => new(DibCodes.InvalidPartitionLayout, message);

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)Alignment:0.##} MiB");

    private static long AlignUp(long bytes) => checked((bytes + Alignment - 1) / Alignment * Alignment);

    private static byte[] ReadSector(FileStream disk, long lba)
    {
        var buffer = new byte[SectorSize];
        disk.Position = lba * SectorSize;
        disk.ReadExactly(buffer);
        return buffer;
    }

    private static void WriteAt(FileStream disk, long lba, byte[] data)
    {
        disk.Position = lba * SectorSize;
        disk.Write(data);
    }
}
