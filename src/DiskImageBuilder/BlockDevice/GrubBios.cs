using System.Buffers.Binary;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Embeds GRUB's BIOS boot code into a disk file, as grub-bios-setup would, without a block
/// device (grub-bios-setup insists on probing one). boot.img goes into sector 0, keeping the
/// partition table; core.img goes into the gap before the first partition (MBR) or into the BIOS
/// boot partition (GPT); the two are linked by sector numbers patched in here.
/// </summary>
internal static class GrubBios
{
    /// <summary>The image's own GRUB files, relative to the tree.</summary>
    public const string BootImage = "usr/lib/grub/i386-pc/boot.img";
    public const string CoreImage = "boot/grub/i386-pc/core.img";

    private const int Sector = 512;
    private const int KernelSectorOffset = 0x5C;   // boot.img: 64-bit LBA of core.img's first sector
    private const int BootCodeEnd = 0x1B8;          // boot code ends where the disk signature starts
    private const int BlockListOffset = 0x1F4;      // core.img's first sector: where the rest is
    private const ushort CoreSegment = 0x820;

    /// <summary>Fails early, before any filesystem work, when the image has no GRUB BIOS files.</summary>
    public static void Require(string tree)
    {
        if (!File.Exists(Path.Combine(tree, BootImage)) || !File.Exists(Path.Combine(tree, CoreImage)))
        {
            throw new DibException(
                DibCodes.NoBootloader,
                $"The image has no GRUB BIOS boot files (/{BootImage}, /{CoreImage}). Add the 'vm' (or 'bootloader') element, which installs grub-pc-bin and builds core.img.");
        }
    }

    public static void Embed(string disk, string tree, long coreStartSector, long coreMaxSectors)
    {
        Require(tree);
        var boot = File.ReadAllBytes(Path.Combine(tree, BootImage));
        var core = File.ReadAllBytes(Path.Combine(tree, CoreImage));
        if (boot.Length != Sector)
        {
            throw new DibException(DibCodes.NoBootloader, $"/{BootImage} is {boot.Length} bytes; GRUB's boot.img is one 512-byte sector.");
        }

        var coreSectors = (core.Length + Sector - 1) / Sector;
        if (coreSectors > coreMaxSectors)
        {
            throw new DibException(
                DibCodes.PartitionLayoutDoesNotFit,
                $"GRUB's core.img needs {coreSectors} sectors but only {coreMaxSectors} are free for it. Build core.img with fewer modules.");
        }

        Array.Resize(ref core, coreSectors * Sector);
        BinaryPrimitives.WriteUInt64LittleEndian(core.AsSpan(BlockListOffset), (ulong)coreStartSector + 1);
        BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(BlockListOffset + 8), (ushort)(coreSectors - 1));
        BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(BlockListOffset + 10), CoreSegment);
        BinaryPrimitives.WriteUInt64LittleEndian(boot.AsSpan(KernelSectorOffset), (ulong)coreStartSector);

        using var f = new FileStream(disk, FileMode.Open, FileAccess.ReadWrite);
        f.Position = 0;
        f.Write(boot, 0, BootCodeEnd);
        f.Position = coreStartSector * Sector;
        f.Write(core);
    }
}
