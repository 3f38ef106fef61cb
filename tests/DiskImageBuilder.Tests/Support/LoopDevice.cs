using System.Globalization;

namespace DiskImageBuilder.Tests;

/// <summary>A loop device over a byte range of a file (read-only unless asked), detached on Dispose.</summary>
public sealed class LoopDevice : IDisposable
{
    public LoopDevice(string file, long offset, long size, bool readOnly = true)
    {
        var inv = CultureInfo.InvariantCulture;
        Path = ImageProject.Sh(string.Create(inv, $"losetup {(readOnly ? "--read-only " : string.Empty)}--find --show --offset {offset} --sizelimit {size} '{file}'")).Trim();
    }

    public string Path { get; }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> of the device itself.</summary>
    public byte[] Read(long offset, int count)
    {
        using var device = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        device.Position = offset;
        var buffer = new byte[count];
        device.ReadExactly(buffer);
        return buffer;
    }

    public void Dispose() => ImageProject.Sh($"losetup --detach '{Path}'");
}
