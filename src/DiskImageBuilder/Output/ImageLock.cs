using DiskImageBuilder.Host;
using System.Security.Cryptography;
using System.Text;

namespace DiskImageBuilder.Output;

/// <summary>
/// One build of an image at a time: an exclusive lock per output path and per work directory (two
/// builds sharing either would delete each other's tree, unmount each other's mounts and rename
/// over each other's files). The lock files live in one host-wide folder, named by a hash of the
/// path, so neither bin/ nor obj/ gets a file of ours; the kernel drops the lock when the process
/// ends, however it ends.
/// </summary>
internal sealed class ImageLock : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private readonly List<FileLock> _locks;

    private ImageLock(List<FileLock> locks) => _locks = locks;

    /// <summary>
    /// Where the lock files are: /run/lock (a tmpfs, empty after a reboot) or the temp folder. Root's
    /// builds share one folder; another user's builds get their own (root's is not theirs to write).
    /// </summary>
    public static string Directory { get; } = (System.IO.Directory.Exists("/run/lock")
        ? "/run/lock/diskimagebuilder"
        : Path.Combine(Path.GetTempPath(), "diskimagebuilder-locks")) + (Environment.IsPrivilegedProcess ? string.Empty : $"-{UserNamespace.Uid()}");

    /// <summary>
    /// Takes the locks of <paramref name="request"/>'s outputs and work directory, waiting (with a
    /// message) while another build holds them, up to <see cref="BuildRequest.LockTimeoutSeconds"/>.
    /// </summary>
    public static ImageLock Take(BuildRequest request, IBuildLog log, CancellationToken cancellationToken)
    {
        // Sorted, so two builds needing the same two locks never wait for each other in a circle.
        var paths = new[] { Outputs.PathOf(request), Path.GetFullPath(request.WorkDirectory).TrimEnd('/') }
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        System.IO.Directory.CreateDirectory(Directory);
        var taken = new List<FileLock>();
        try
        {
            foreach (var path in paths)
            {
                taken.Add(TakeOne(path, request.LockTimeoutSeconds, request.ProjectFile, log, cancellationToken));
            }
        }
        catch
        {
            taken.ForEach(l => l.Dispose());
            throw;
        }

        return new ImageLock(taken);
    }

    public void Dispose() => _locks.ForEach(l => l.Dispose());

    /// <summary>The lock file for a path.</summary>
    public static string LockFile(string path) =>
        Path.Combine(Directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..32] + ".lock");

    private static FileLock TakeOne(string path, int? timeoutSeconds, string? project, IBuildLog log, CancellationToken cancellationToken)
    {
        var file = LockFile(path);
        var owner = file[..^".lock".Length] + ".owner";
        var held = FileLock.TryTake(file, exclusive: true, wait: false);
        if (held is null)
        {
            var who = Owner(owner);
            var where = project is null ? null : new SourceLocation(project);
            if (timeoutSeconds == 0)
            {
                throw new DibException(
                    DibCodes.ImageLocked,
                    $"Another build of {path} is running{who}. Wait for it to end, or build with ImageLockTimeout unset (or more than 0 seconds) to wait for it.",
                    where);
            }

            log.Message(LogImportance.High, $"DiskImageBuilder: waiting for another build of {path}{who} to end{(timeoutSeconds is { } t ? $" (ImageLockTimeout: {t} s)" : string.Empty)}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (held is null)
            {
                if (timeoutSeconds is { } limit && clock.Elapsed.TotalSeconds >= limit)
                {
                    throw new DibException(
                        DibCodes.ImageLocked,
                        $"Another build of {path} is still running{Owner(owner)} after ImageLockTimeout={limit} s. Wait for it to end, or raise ImageLockTimeout.",
                        where);
                }

                cancellationToken.WaitHandle.WaitOne(Poll);
                cancellationToken.ThrowIfCancellationRequested();
                held = FileLock.TryTake(file, exclusive: true, wait: false);
            }
        }

        File.WriteAllText(owner, $"{Environment.ProcessId} {project ?? path}\n");
        return held;
    }

    /// <summary>" (process N, project P)" from the owner file, if it is readable.</summary>
    private static string Owner(string ownerFile)
    {
        try
        {
            var parts = File.ReadAllText(ownerFile).Trim().Split(' ', 2);
            return parts.Length == 2 ? $" (process {parts[0]}, {parts[1]})" : string.Empty;
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
