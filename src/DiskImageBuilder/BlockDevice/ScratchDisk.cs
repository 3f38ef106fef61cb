using DiskImageBuilder.Host;
using Microsoft.Win32.SafeHandles;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// The raw disk the disk stage assembles before conversion. In RAM (/dev/shm) when there is room,
/// as DIB builds in tmpfs: mke2fs runs about twice as fast there. The file is unlinked
/// as soon as it is opened and reached through /proc/PID/fd/N, so the kernel frees it when this
/// process ends, however it ends: nothing can be left in /dev/shm. DIB_NO_TMPFS=1 (and a rootless
/// build) keeps it on disk.
/// </summary>
internal sealed class ScratchDisk : IDisposable
{
    private const string SharedMemory = "/dev/shm";
    private readonly SafeFileHandle? _handle;

    private ScratchDisk(string path, SafeFileHandle? handle)
    {
        Path = path;
        _handle = handle;
    }

    /// <summary>What tools open: /proc/PID/fd/N in RAM, or a file in the work directory.</summary>
    public string Path { get; }

    public bool InMemory => _handle is not null;

    /// <param name="expectedBytes">What the disk will really hold (it is sparse): decides whether RAM has room.</param>
    public static ScratchDisk Create(string workDirectory, long size, long expectedBytes, bool allowMemory)
    {
        // Not in a rootless build: its tools run in a user namespace, and from there the kernel
        // refuses /proc/PID/fd of our process, which is outside it (ptrace rules). The work
        // directory's file is what they get instead; the next build of the image removes it if we die.
        if (allowMemory && UserNamespace.Current is null && HasRoom(expectedBytes))
        {
            var file = System.IO.Path.Combine(SharedMemory, $"dib-disk-{Guid.NewGuid():N}");
            var handle = File.OpenHandle(file, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
            File.Delete(file);
            RandomAccess.SetLength(handle, size);
            return new ScratchDisk($"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}", handle);
        }

        var path = System.IO.Path.Combine(workDirectory, "disk.raw");
        using (var f = File.Create(path))
        {
            f.SetLength(size);
        }

        return new ScratchDisk(path, null);
    }

    public void Dispose()
    {
        if (_handle is null)
        {
            File.Delete(Path);
        }
        else
        {
            _handle.Dispose();
        }
    }

    // RAM for twice the data, and room in /dev/shm itself: containers often give it only 64 MiB.
    private static bool HasRoom(long expectedBytes)
    {
        if (!Directory.Exists(SharedMemory) || Memory.AvailableBytes() is not { } memory || memory < (expectedBytes * 2) + (1L << 30))
        {
            return false;
        }

        try
        {
            return new DriveInfo(SharedMemory).AvailableFreeSpace > expectedBytes + (expectedBytes / 4) + (256L << 20);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
