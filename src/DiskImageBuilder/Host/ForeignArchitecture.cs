using System.Runtime.InteropServices;
using System.Text;

namespace DiskImageBuilder.Host;

/// <summary>
/// Lets the build run an image of another architecture's programs (its shell, dpkg's maintainer
/// scripts, grub-mkimage) through qemu-user-static: a binfmt_misc handler registered for the build
/// and removed after it, whatever happened. The handler has the F (fix-binary) flag, so the kernel
/// opens the emulator once, at registration: it then works inside the image after pivot_root, where
/// the host's /usr/bin is gone, with nothing copied into the image.
/// </summary>
public sealed class ForeignArchitecture : IDisposable
{
    /// <summary>Where the kernel's binfmt_misc filesystem is mounted (systemd's and binfmt-support's place).</summary>
    public const string DefaultMount = "/proc/sys/fs/binfmt_misc";

    /// <summary>Handlers this engine registers start with this; the rest is the process id and a number.</summary>
    public const string HandlerPrefix = "dib-";

    private static int _count;

    private readonly string _entry;
    private readonly IBuildLog _log;
    private bool _disposed;

    private ForeignArchitecture(string entry, IBuildLog log)
    {
        _entry = entry;
        _log = log;
    }

    /// <summary>The emulators known, by Debian architecture: qemu's name, the ELF header it claims and its mask (qemu's own, as Debian's qemu-user-static registers them).</summary>
    private static readonly Dictionary<string, (string Qemu, string Magic, string Mask)> Handlers = new(StringComparer.Ordinal)
    {
        ["arm64"] = ("aarch64",
            @"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
            @"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"),
    };

    /// <summary>The host's architecture as Debian names it.</summary>
    public static string HostArchitecture { get; } = RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.X86 => "i386",
        Architecture.Arm => "armhf",
        Architecture.Ppc64le => "ppc64el",
        Architecture.S390x => "s390x",
        _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
    };

    /// <summary>Whether building <paramref name="architecture"/> here runs its programs under qemu-user-static.</summary>
    public static bool IsEmulated(string architecture) => architecture != HostArchitecture && Handlers.ContainsKey(architecture);

    /// <summary>
    /// The host programs an emulated build needs: the emulator, and arch-test, which mmdebstrap (and
    /// debootstrap) run to ask whether the host can execute the architecture before they bootstrap it.
    /// </summary>
    public static IReadOnlyList<HostTool> Tools(string architecture) => IsEmulated(architecture)
        ? [new($"qemu-{Handlers[architecture].Qemu}-static", "qemu-user-static"), new("arch-test", "arch-test"), new("mount", "mount")]
        : [];

    /// <summary>
    /// Registers the emulator for <paramref name="architecture"/> when the host cannot run it natively
    /// (null when it can: nothing to undo). Mounts binfmt_misc first when it is not mounted (left
    /// mounted, as systemd leaves it: another build may be using it). Handlers a killed build left
    /// behind (their process is gone) are removed first. DIB0720 when the kernel refuses.
    /// </summary>
    /// <param name="mountPoint">binfmt_misc's mount point (tests name another to provoke the refusal).</param>
    public static ForeignArchitecture? Register(string architecture, IBuildLog log, CancellationToken cancellationToken, string mountPoint = DefaultMount)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (!IsEmulated(architecture))
        {
            return null;
        }

        var (qemu, magic, mask) = Handlers[architecture];
        var emulator = ProcessRunner.FindOnPath($"qemu-{qemu}-static")
            ?? throw new DibException(DibCodes.MissingHostTools, $"Missing host program: qemu-{qemu}-static. Install it with: apt-get install -y qemu-user-static");
        var register = Path.Combine(mountPoint, "register");
        if (!File.Exists(register))
        {
            log.Message(LogImportance.Normal, $"DiskImageBuilder: mounting binfmt_misc at {mountPoint} to run {architecture} programs under qemu-{qemu}-static");
            var mounted = ProcessRunner.Run(new ProcessSpec("mount", ["-t", "binfmt_misc", "binfmt_misc", mountPoint]), null, cancellationToken);
            if (mounted.ExitCode != 0 || !File.Exists(register))
            {
                throw Refused(architecture, qemu, $"binfmt_misc is not mounted at {mountPoint} and mounting it failed: {Last(mounted.Tail)}");
            }
        }

        var status = Read(Path.Combine(mountPoint, "status"));
        if (status is not "enabled")
        {
            throw Refused(architecture, qemu, $"binfmt_misc at {mountPoint} is {(status is null ? "unreadable" : $"'{status}'")} (echo 1 > {mountPoint}/status turns it back on)");
        }

        RemoveStale(mountPoint, log);
        var name = $"{HandlerPrefix}{qemu}-{Environment.ProcessId}-{Interlocked.Increment(ref _count)}";
        try
        {
            WriteOnce(register, $":{name}:M::{magic}:{mask}:{emulator}:F");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Refused(architecture, qemu, $"the kernel refused to register the handler ({e.Message})");
        }

        var entry = Path.Combine(mountPoint, name);
        log.Message(LogImportance.Normal, $"DiskImageBuilder: {architecture} programs run under {emulator} (binfmt_misc handler {entry}, fix-binary)");
        return new ForeignArchitecture(entry, log);
    }

    /// <summary>Removes the handler (also after a failed or cancelled build).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            WriteOnce(_entry, "-1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Message(LogImportance.High, $"DiskImageBuilder: warning: could not remove the binfmt_misc handler {_entry}: {e.Message}");
        }
    }

    /// <summary>Our handlers whose process no longer runs: a build killed before it could remove its own.</summary>
    private static void RemoveStale(string mountPoint, IBuildLog log)
    {
        foreach (var file in Directory.EnumerateFiles(mountPoint, HandlerPrefix + "*"))
        {
            var parts = Path.GetFileName(file).Split('-');
            if (parts.Length == 4 && int.TryParse(parts[2], out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    WriteOnce(file, "-1");
                    log.Message(LogImportance.Low, $"DiskImageBuilder: removed the binfmt_misc handler {file} of a build that is gone");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another build removed it first.
                }
            }
        }
    }

    /// <summary>binfmt_misc takes each command in one write(2): a buffered stream could split it.</summary>
    private static void WriteOnce(string path, string text)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, Encoding.ASCII.GetBytes(text), 0);
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Last(IReadOnlyList<string> tail) =>
        tail.LastOrDefault(l => !string.IsNullOrWhiteSpace(l))?.Trim() ?? "no output";

    private static DibException Refused(string architecture, string qemu, string why) => new(
        DibCodes.ForeignArchitectureUnavailable,
        $"Architecture {architecture} runs the image's programs under qemu-{qemu}-static through binfmt_misc, and {why}. "
        + "The build needs root in the host's initial namespaces (not a container or user namespace without binfmt_misc) and a kernel with CONFIG_BINFMT_MISC; "
        + $"or build on an {architecture} host.");
}
