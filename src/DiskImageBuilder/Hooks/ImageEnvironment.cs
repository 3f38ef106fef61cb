using DiskImageBuilder.Elements;

namespace DiskImageBuilder.Hooks;

/// <summary>The variables every hook script sees, with DIB's names.</summary>
public static class ImageEnvironment
{
    /// <summary>Host variables that pass through to scripts besides DIB_* (proxies, as DIB does).</summary>
    public static readonly IReadOnlyList<string> PassThrough =
        ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];

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

    public static Dictionary<string, string> ForScripts(BuildRequest request, ResolvedElements elements, string rootTree, string hooksTree)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = "/root",
            ["LC_ALL"] = "C",
            ["LANG"] = "C",
            ["TMPDIR"] = "/tmp",
            ["DEBIAN_FRONTEND"] = "noninteractive",
        };
        foreach (var (k, v) in request.Environment)
        {
            env[k] = v;
        }

        env["TARGET_ROOT"] = rootTree;
        env["TMP_HOOKS_PATH"] = hooksTree;
        env["TMP_BUILD_DIR"] = request.WorkDirectory;
        env["ARCH"] = request.Architecture;
        env["IMAGE_NAME"] = request.ImageName;
        env["IMAGE_ELEMENT"] = string.Join(' ', elements.Names);
        env["IMAGE_ELEMENT_YAML"] = string.Join('\n', elements.Elements.Select(e => $"{e.Name}: {e.Directory}"));
        if (!string.IsNullOrWhiteSpace(request.DistroRelease))
        {
            env["DIB_RELEASE"] = request.DistroRelease;
        }

        // The disk the image will live on, for the bootloader and vm elements (fstab, grub.cfg).
        env["DIB_BOOT_MODE"] = request.BootMode;
        env["DIB_ROOT_LABEL"] = BlockDevice.DiskImage.RootLabel(request);
        env["DIB_ROOT_FSTYPE"] = request.RootFileSystem;

        // DIB's cache folder: elements keep what is expensive to fetch there (debian-minimal's base tree).
        env["DIB_IMAGE_CACHE"] = request.CacheDirectory();

        if (request.Trace)
        {
            env["DIB_DEBUG_TRACE"] = "1";
        }

        env.TryAdd("DIB_DEBUG_TRACE", "0");
        return env;
    }
}
