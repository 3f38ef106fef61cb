using System.Globalization;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// One line of the image's /etc/fstab, from a layout's mkfs, mount and fstab entries. Make it with
/// <see cref="Fstab.Entry"/>, which applies DIB's defaults.
/// </summary>
/// <param name="Device">LABEL=… (DIB's choice whenever a label exists: mkfs always has one) or UUID=….</param>
/// <param name="MountPoint">The layout's mount point, which orders the lines; swap's line says "none".</param>
internal sealed record FstabEntry(string Device, string MountPoint, string Type, string Options, int DumpFreq, int FsckPassno)
{
    public bool IsSwap => Type == FileSystemMaker.Swap;

    public override string ToString() => string.Join(
        ' ',
        Device,
        IsSwap ? "none" : MountPoint,
        Type,
        Options,
        DumpFreq.ToString(CultureInfo.InvariantCulture),
        FsckPassno.ToString(CultureInfo.InvariantCulture));
}
