using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Hooks;

/// <summary>The variables every hook script sees, with DIB's names.</summary>
public static class ImageEnvironment
{
    /// <summary>Host variables that pass through to scripts besides DIB_* (proxies, as DIB does; SOURCE_DATE_EPOCH for reproducible builds).</summary>
    public static readonly IReadOnlyList<string> PassThrough =
        ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "SOURCE_DATE_EPOCH"];

    /// <summary>
    /// Names that look like they hold a secret (as the manifests element judges them): their values
    /// stay out of files the build writes outside the image (obj/…/request.json).
    /// </summary>
    public static bool LooksSecret(string name)
    {
        var upper = name.ToUpperInvariant();
        return upper.Contains("PASSWORD", StringComparison.Ordinal) || upper.Contains("TOKEN", StringComparison.Ordinal)
            || upper.Contains("SECRET", StringComparison.Ordinal) || upper.Contains("KEY", StringComparison.Ordinal);
    }

    /// <summary>
    /// DIB_* and proxy variables from a calling environment, overridden by explicit values (the
    /// .dibproj's ImageEnvironment items, CLI options).
    /// </summary>
    public static Dictionary<string, string> Collect(
        IEnumerable<KeyValuePair<string, string>> callingEnvironment,
        IEnumerable<KeyValuePair<string, string>> explicitValues)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in callingEnvironment)
        {
            if (k.StartsWith("DIB_", StringComparison.Ordinal) || PassThrough.Contains(k))
            {
                result[k] = v;
            }
        }

        foreach (var (k, v) in explicitValues)
        {
            result[k] = v;
        }

        return result;
    }

    /// <param name="rootTree">The image tree (TARGET_ROOT, TMP_MOUNT_PATH).</param>
    /// <param name="hooksTree">The merged hooks tree (TMP_HOOKS_PATH).</param>
    /// <param name="libDirectory">Where <see cref="Hooks.HookLibrary"/> was written (`$_LIB`).</param>
    public static Dictionary<string, string> ForScripts(BuildRequest request, ResolvedElements elements, string rootTree, string hooksTree, string libDirectory)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = "/root",
            ["USER"] = "root",
            ["LC_ALL"] = "C",
            ["LANG"] = "C",
            ["TMPDIR"] = "/tmp",
            ["DEBIAN_FRONTEND"] = "noninteractive",
        };

        // DIB's python (it runs on it): elements call $DIB_PYTHON_EXEC in host hooks. A caller's value wins, as in DIB.
        if (File.Exists("/usr/bin/python3"))
        {
            env["DIB_PYTHON_EXEC"] = "/usr/bin/python3";
        }

        foreach (var (k, v) in request.Environment)
        {
            env[k] = v;
        }

        // What DIB records first thing, before any default: the caller's DIB_* variables and the arguments.
        env["DIB_ENV"] = DeclareP(request.Environment.Where(e => e.Key.StartsWith("DIB_", StringComparison.Ordinal)));
        env["DIB_ARGS"] = string.Join(' ', request.Arguments ?? EquivalentArguments(request, HookImageName(request)));

        env["TARGET_ROOT"] = rootTree;
        env["TMP_MOUNT_PATH"] = rootTree;
        env["TMP_HOOKS_PATH"] = hooksTree;
        env["TMP_BUILD_DIR"] = request.WorkDirectory;
        env["_LIB"] = libDirectory;
        env["ARCH"] = request.Architecture;
        env["IMAGE_NAME"] = HookImageName(request);
        env["IMAGE_ELEMENT"] = string.Join(' ', elements.Names);
        env["IMAGE_ELEMENT_YAML"] = ElementYaml(elements);
        env["ELEMENTS_PATH"] = string.Join(':', request.ElementsPath);
        var (getArray, arrayBody) = Hooks.HookLibrary.ExportedFunction(
            "get_image_element_array", $" echo \"{string.Concat(elements.Elements.Select(e => $"[{e.Name}]={e.Directory} "))}\"");
        env[getArray] = arrayBody;
        var (die, dieBody) = Hooks.HookLibrary.Die();
        env[die] = dieBody;
        if (!string.IsNullOrWhiteSpace(request.DistroRelease))
        {
            env["DIB_RELEASE"] = request.DistroRelease;
        }

        // DIB always sets it: empty, or 1 for an offline build.
        env.TryAdd("DIB_OFFLINE", string.Empty);

        // DIB's --image-size (GB) as the user gave it; from block-device.d on DIB means KiB (see ForDiskPhases).
        if (request.ImageSize is { } size)
        {
            env["DIB_IMAGE_SIZE"] = Gigabytes(size);
        }

        // The disk the image will live on, for the bootloader and vm elements (fstab, grub.cfg).
        env["DIB_BOOT_MODE"] = request.BootMode;
        env["DIB_ROOT_LABEL"] = BlockDevice.DiskImage.RootLabel(request);
        env["DIB_ROOT_FSTYPE"] = request.RootFileSystem;

        // DIB's getval boot-label: a separate /boot's label (GRUB's files and the kernel are found there), else empty.
        var layout = BlockDevice.LayoutDisk.Load(request, elements.Elements);
        env["DIB_BOOT_LABEL"] = layout is null ? string.Empty : BlockDevice.LayoutDisk.BootLabel(layout);

        // The root filesystem on an LVM logical volume: the kernel's root= (/dev/mapper/VG-LV) for the bootloader element.
        if (layout is not null && BlockDevice.LayoutDisk.RootDevice(layout) is { } rootDevice)
        {
            env["DIB_ROOT_DEVICE"] = rootDevice;
        }

        // DIB's cache folder: elements keep what is expensive to fetch there (debian-minimal's base tree).
        env["DIB_IMAGE_CACHE"] = request.CacheDirectory();

        if (request.Trace)
        {
            env["DIB_DEBUG_TRACE"] = "1";
        }

        env.TryAdd("DIB_DEBUG_TRACE", "0");
        return env;
    }

    /// <summary>
    /// The variables after sourcing <paramref name="files"/> (environment.d files) in bash with
    /// <paramref name="environment"/>: what a host hook sees, so what DIB's extra-data.d hooks
    /// evaluate package-installs' <c>when:</c> against. A file that fails is DIB0071 with its output.
    /// </summary>
    public static Dictionary<string, string> Sourced(
        IReadOnlyDictionary<string, string> environment, IEnumerable<string> files, string workingDirectory, CancellationToken cancellationToken)
    {
        var output = Path.GetTempFileName();
        try
        {
            const string Script = """
                out=$1
                shift
                for f in "$@"; do
                  . "$f" || { echo "sourcing $f failed"; exit 1; }
                done
                env -0 > "$out"
                """;
            var result = ProcessRunner.Run(
                new ProcessSpec("bash", ["-c", Script, "dib-environment", output, .. files])
                {
                    ClearEnvironment = true,
                    Environment = environment,
                    WorkingDirectory = workingDirectory,
                },
                null,
                cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new DibException(
                    DibCodes.EnvironmentFilesFailed,
                    $"Sourcing the elements' environment.d files failed with exit code {result.ExitCode}; every hook sources them, so the file named below must be fixed.{ProcessRunner.FormatTail(result.Tail)}");
            }

            return File.ReadAllText(output).Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(e => e.Split('=', 2))
                .Where(p => p.Length == 2 && p[0] != "_")
                .GroupBy(p => p[0], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>DIB's default install type for install-types: written by DIB as an environment.d file, so a value given by the caller wins.</summary>
    public static string InstallTypeFile(BuildRequest request)
    {
        var type = request.Environment.TryGetValue("DIB_DEFAULT_INSTALLTYPE", out var t) && !string.IsNullOrWhiteSpace(t) ? t : "source";
        return $"export DIB_DEFAULT_INSTALLTYPE=${{DIB_DEFAULT_INSTALLTYPE:-{BashQuote(type)}}}\n";
    }

    /// <summary>The environment.d file (DIB's name) that carries <see cref="InstallTypeFile"/>.</summary>
    public const string InstallTypeFileName = "11-dib-install-type.bash";

    /// <summary>The directory host hooks run in: DIB runs them in the caller's.</summary>
    public static string WorkingDirectory(BuildRequest request) =>
        request.WorkingDirectory
        ?? (request.ProjectFile is not null ? Path.GetDirectoryName(Path.GetFullPath(request.ProjectFile))! : Environment.CurrentDirectory);

    /// <summary>IMAGE_NAME for hooks: see <see cref="BuildRequest.HookImageName"/>.</summary>
    public static string HookImageName(BuildRequest request)
    {
        if (!string.IsNullOrEmpty(request.HookImageName))
        {
            return request.HookImageName;
        }

        var full = Path.GetFullPath(Path.Combine(request.OutputDirectory, request.ImageName));
        var relative = Path.GetRelativePath(WorkingDirectory(request), full);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
    }

    /// <summary>
    /// The disk-image-create arguments that build what a .dibproj describes (DIB_ARGS of a project build):
    /// -a, -o, -t, the switches that are set, the packages and the elements as listed.
    /// </summary>
    public static IReadOnlyList<string> EquivalentArguments(BuildRequest request, string imageName)
    {
        var args = new List<string> { "-a", request.Architecture, "-o", imageName, "-t", string.Join(',', request.Formats) };
        if (request.Trace)
        {
            args.Add("-x");
        }

        if (request.NoCompression)
        {
            args.Add("-u");
        }

        if (request.SkipBaseElement)
        {
            args.Add("-n");
        }

        if (request.Packages.Count > 0)
        {
            args.AddRange(["-p", string.Join(',', request.Packages)]);
        }

        if (request.ImageSize is { } size)
        {
            args.AddRange(["--image-size", Gigabytes(size)]);
        }

        if (request.RootLabel is { } label)
        {
            args.AddRange(["--root-label", label]);
        }

        if (request.Checksums.Count > 0)
        {
            args.Add("--checksum");
        }

        args.AddRange(request.Elements.Select(e => e.Name));
        return args;
    }

    /// <summary>DIB's IMAGE_ELEMENT_YAML: a YAML mapping of element name to directory, keys sorted, as PyYAML's safe_dump writes it.</summary>
    public static string ElementYaml(ResolvedElements elements) =>
        string.Concat(elements.Elements.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => $"{e.Name}: {YamlScalar(e.Directory)}\n"));

    // Plain when YAML reads it back unchanged, else single-quoted.
    private static string YamlScalar(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+') && value[0] is not ('-' or '.')
            ? value
            : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>`declare -p` lines of exported variables, sorted as `compgen -v` lists them (DIB_ENV).</summary>
    private static string DeclareP(IEnumerable<KeyValuePair<string, string>> variables) =>
        string.Join('\n', variables.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"declare -x {v.Key}={BashQuote(v.Value)}"));

    private static string BashQuote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("$", "\\$", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal) + "\"";

    /// <summary>Bytes as DIB's --image-size takes them: GB, with up to three decimals.</summary>
    public static string Gigabytes(long bytes) =>
        (bytes / (double)(1L << 30)).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
