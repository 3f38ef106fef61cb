using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// An advisory flock(2) on a file: shared or exclusive, released on dispose and by the kernel when
/// the process dies, so a killed build never leaves a lock behind.
/// </summary>
internal sealed partial class FileLock : IDisposable
{
    private const int Shared = 1;
    private const int Exclusive = 2;
    private const int NonBlocking = 4;
    private const int Unlock = 8;

    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Waits for the lock.</summary>
    public static FileLock Take(string path, bool exclusive) =>
        TryTake(path, exclusive, wait: true) ?? throw new IOException($"Could not lock {path}.");

    /// <summary>The lock, or null when another process holds a conflicting one and <paramref name="wait"/> is false.</summary>
    public static FileLock? TryTake(string path, bool exclusive, bool wait)
    {
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (Flock(handle, (exclusive ? Exclusive : Shared) | (wait ? 0 : NonBlocking)))
        {
            return new FileLock(handle);
        }

        handle.Dispose();
        return null;
    }

    /// <summary>Turns a shared lock into an exclusive one if nobody else holds it; false (still shared) otherwise.</summary>
    public bool TryUpgrade() => Flock(_handle, Exclusive | NonBlocking);

    /// <summary>Back to shared after <see cref="TryUpgrade"/>.</summary>
    public void Downgrade() => Flock(_handle, Shared);

    public void Dispose()
    {
        Flock(_handle, Unlock);
        _handle.Dispose();
    }

    private static bool Flock(SafeFileHandle handle, int operation)
    {
        while (true)
        {
            if (flock((int)handle.DangerousGetHandle(), operation) == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            const int EINTR = 4, EWOULDBLOCK = 11;
            if (errno == EINTR)
            {
                continue;
            }

            return errno == EWOULDBLOCK ? false : throw new IOException($"flock failed (errno {errno}).");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);
}
