using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Output;

/// <summary>
/// Ramdisk builds (DIB's ramdisk-image-create): the ramdisk element's hooks build the kernel and
/// initramfs in the tree and copy them beside the image as IMAGE.kernel and IMAGE.initramfs
/// (DIB's names); those two files are the build's outputs, and no disk image is made.
/// </summary>
public static class Ramdisk
{
    /// <summary>DIB's default --ramdisk-element.</summary>
    public const string DefaultElement = "ramdisk";

    public const string KernelExtension = "kernel";

    public const string InitramfsExtension = "initramfs";

    /// <param name="stem">The image's path without extension.</param>
    public static IReadOnlyList<string> OutputPaths(string stem) => [$"{stem}.{KernelExtension}", $"{stem}.{InitramfsExtension}"];

    /// <summary>
    /// Before the phases: a previous build's files go, so a ramdisk element that no longer writes
    /// them fails the build instead of leaving old files looking fresh.
    /// </summary>
    public static void RemovePrevious(string stem)
    {
        foreach (var path in OutputPaths(stem))
        {
            File.Delete(path);
        }
    }

    /// <summary>After cleanup.d: both files must have been written by the ramdisk element.</summary>
    public static IReadOnlyList<string> Outputs(string stem, string element)
    {
        var outputs = OutputPaths(stem);
        var missing = outputs.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            throw new DibException(
                DibCodes.RamdiskNotProduced,
                $"The ramdisk build wrote no {string.Join(" and ", missing.Select(Path.GetFileName))}: the ramdisk element '{element}' (or one it depends on, such as ramdisk-base) "
                + "must copy the kernel and initramfs beside $IMAGE_NAME in cleanup.d. Use --ramdisk-element (RamdiskElement) to name an element that does, e.g. ramdisk or dracut-ramdisk.");
        }

        return outputs;
    }

    /// <summary>DIB's ramdisk phases: programs the ramdisk must hold, and /init's parts.</summary>
    public const string BinaryDepsDir = "binary-deps.d";

    public const string InitDir = "init.d";

    // Where a program named in binary-deps.d is looked for: the PATH hooks have in the image.
    private static readonly string[] SearchPath = ["usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin"];

    /// <summary>
    /// Before any work: every init.d part must parse as a shell script (they are concatenated into
    /// the ramdisk's /init, where one that does not parse stops the boot at once).
    /// </summary>
    public static void CheckInitParts(IEnumerable<Element> elements, CancellationToken cancellationToken)
    {
        var problems = new List<Diagnostic>();
        foreach (var element in elements)
        {
            var dir = Path.Combine(element.Directory, InitDir);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var part in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                var result = ProcessRunner.Run(new ProcessSpec("sh", ["-n", part]), null, cancellationToken);
                if (result.ExitCode != 0)
                {
                    // dash: "FILE: LINE: message".
                    var message = string.Join(' ', result.Tail).Trim();
                    var line = System.Text.RegularExpressions.Regex.Match(message, @":\s*(\d+):") is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1;
                    problems.Add(new Diagnostic(
                        DibCodes.BadRamdiskPart,
                        $"Element '{element.Name}': {InitDir}/{Path.GetFileName(part)} is not a valid shell script, and the ramdisk's /init would stop there: {message}",
                        new SourceLocation(part, line)));
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new DibException(problems);
        }
    }

    /// <summary>
    /// After install.d, before post-install.d builds the ramdisk (where DIB checks): the tree has a
    /// kernel, and every program a binary-deps.d file names is on the image's PATH.
    /// </summary>
    public static void CheckTree(IEnumerable<Element> elements, string tree)
    {
        var boot = Path.Combine(tree, "boot");
        if (!Directory.Exists(boot) || !Directory.EnumerateFiles(boot, "vmlinu*-*").Any(f => Path.GetFileName(f).StartsWith("vmlinuz-", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("vmlinux-", StringComparison.Ordinal)))
        {
            throw new DibException(
                DibCodes.NoKernel,
                "The image has no kernel (/boot/vmlinuz-*), so there is nothing to boot the ramdisk with. Install one: the 'debian' element does (linux-image-cloud-amd64); with 'debian-minimal' add <Package Include=\"linux-image-amd64\" /> (DIB: -p linux-image-amd64).");
        }

        var problems = new List<Diagnostic>();
        foreach (var element in elements)
        {
            var dir = Path.Combine(element.Directory, BinaryDepsDir);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                var lines = File.ReadAllLines(file);
                for (var i = 0; i < lines.Length; i++)
                {
                    foreach (var binary in lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(b => !InTree(tree, b)))
                    {
                        problems.Add(new Diagnostic(
                            DibCodes.RamdiskBinaryMissing,
                            $"Element '{element.Name}': {BinaryDepsDir}/{Path.GetFileName(file)} names '{binary}', which is not in the image (looked in /{string.Join(", /", SearchPath)}). Install it (package-installs.yaml of the element) or remove it from the list.",
                            new SourceLocation(file, i + 1)));
                    }
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new DibException(problems);
        }
    }

    private static bool InTree(string tree, string binary) =>
        binary.StartsWith('/')
            ? HostFiles.ExistsInTree(tree, binary)
            : SearchPath.Any(dir => HostFiles.ExistsInTree(tree, $"/{dir}/{binary}"));
}
