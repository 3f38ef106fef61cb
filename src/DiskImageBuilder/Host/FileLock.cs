using System.Runtime.InteropServices;

namespace DiskImageBuilder.Host;

/// <summary>
/// An advisory flock(2) on a file: shared or exclusive, released on dispose and by the kernel when
/// the process dies, so a killed build never leaves a lock behind. The file is opened with open(2)
/// directly: .NET's FileStream takes a flock of its own on open, which would fight ours.
/// </summary>
internal sealed partial class FileLock : IDisposable
{
    private const int Shared = 1;
    private const int Exclusive = 2;
    private const int NonBlocking = 4;
    private const int Unlock = 8;
    private const int OpenFlags = 0x2 | 0x40 | 0x80000; // O_RDWR | O_CREAT | O_CLOEXEC

    private readonly int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>Waits for the lock.</summary>
    public static FileLock Take(string path, bool exclusive) =>
        TryTake(path, exclusive, wait: true) ?? throw new IOException($"Could not lock {path}.");

    /// <summary>The lock, or null when another process holds a conflicting one and <paramref name="wait"/> is false.</summary>
    public static FileLock? TryTake(string path, bool exclusive, bool wait)
    {
        var fd = open(path, OpenFlags, 0x1A4 /* 0644 */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open the lock file {path} (errno {Marshal.GetLastPInvokeError()}).");
        }

        if (Flock(fd, (exclusive ? Exclusive : Shared) | (wait ? 0 : NonBlocking)))
        {
            return new FileLock(fd);
        }

        _ = close(fd);
        return null;
    }

    /// <summary>Turns a shared lock into an exclusive one if nobody else holds it; false (still shared) otherwise.</summary>
    public bool TryUpgrade() => Flock(_fd, Exclusive | NonBlocking);

    /// <summary>Back to shared after <see cref="TryUpgrade"/>.</summary>
    public void Downgrade() => Flock(_fd, Shared);

    public void Dispose()
    {
        Flock(_fd, Unlock);
        _ = close(_fd);
    }

    private static bool Flock(int fd, int operation)
    {
        while (true)
        {
            if (flock(fd, operation) == 0)
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

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
