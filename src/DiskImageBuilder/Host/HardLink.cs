using System.Runtime.InteropServices;

namespace DiskImageBuilder.Host;

/// <summary>link(2): .NET has no managed call for a hard link.</summary>
internal static partial class HardLink
{
    /// <summary>A second name for <paramref name="existing"/>; false when <paramref name="newPath"/> exists already or <paramref name="existing"/> is gone.</summary>
    public static bool TryCreate(string existing, string newPath)
    {
        if (link(existing, newPath) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        const int ENOENT = 2, EEXIST = 17;
        return errno is EEXIST or ENOENT ? false : throw new IOException($"Cannot link {existing} to {newPath} (errno {errno}).");
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string newPath);
}
