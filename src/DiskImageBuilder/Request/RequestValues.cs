using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.Request;

/// <summary>
/// Turning user-written values into <see cref="BuildRequest"/> values, shared by the MSBuild task
/// and the CLI so both accept and reject the same things with the same codes.
/// </summary>
public static partial class RequestValues
{
    public static readonly IReadOnlyList<string> ChecksumKinds = ["md5", "sha256"];

    /// <summary>The element search path: explicit directories, then ELEMENTS_PATH, then the packaged library.</summary>
    public static IReadOnlyList<string> SearchPath(IEnumerable<string> explicitDirectories, string? elementsPathVariable, string? library) =>
        [.. explicitDirectories
            .Concat(Elements.ElementRepository.SplitPathList(elementsPathVariable))
            .Append(library ?? string.Empty)
            .Where(p => !string.IsNullOrWhiteSpace(p))];

    /// <summary>This process's environment as pairs, for <see cref="ImageEnvironment.Collect"/>.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment() =>
        System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? string.Empty, StringComparer.Ordinal);

    /// <summary>
    /// An image size in bytes: a bare number is GB as in DIB's --image-size (decimals allowed),
    /// or a number with K, M, G or T (powers of 1024), e.g. 2G, 512M.
    /// </summary>
    public static long ParseImageSize(string value, string what, SourceLocation? location)
    {
        var m = SizePattern().Match(value.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw Invalid(what, value, "a size such as 2G, 512M or 2 (GB)", location);
        }

        var shift = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "K" => 10,
            "M" => 20,
            "T" => 40,
            _ => 30,
        };
        return (long)Math.Round(number * (1L << shift));
    }

    /// <summary>A boolean as MSBuild spells them (true/false, on/off, yes/no, any case); empty: the fallback.</summary>
    public static bool ParseBool(string? value, bool fallback, string what, SourceLocation? location) =>
        value?.Trim().ToLowerInvariant() switch
        {
            null or "" => fallback,
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            _ => throw Invalid(what, value, "true or false", location),
        };

    /// <summary>A positive whole number (DIB's --max-online-resize counts filesystem blocks); with <paramref name="allowZero"/>, 0 too.</summary>
    public static long ParseCount(string value, string what, SourceLocation? location, bool allowZero = false) =>
        long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && (n > 0 || allowZero)
            ? n
            : throw Invalid(what, value, allowZero ? "a whole number (0 or more)" : "a positive whole number", location);

    /// <summary>Checksum kinds, ',' separated, each md5 or sha256.</summary>
    public static IReadOnlyList<string> ParseChecksums(string value, string what, SourceLocation? location)
    {
        var kinds = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => k.ToLowerInvariant()).Distinct().ToList();
        return kinds.Count > 0 && kinds.All(ChecksumKinds.Contains)
            ? kinds
            : throw Invalid(what, value, string.Join(" or ", ChecksumKinds), location);
    }

    /// <summary>A filesystem label: 1 to 16 characters for ext4, 12 for xfs, no spaces (fstab and grub.cfg search for it).</summary>
    public static string ParseRootLabel(string value, string what, SourceLocation? location, int maxLength = 16) =>
        value.Length > 0 && value.Length <= maxLength && !value.Any(char.IsWhiteSpace)
            ? value
            : throw Invalid(what, value, $"1 to {maxLength} characters without spaces", location);

    /// <summary>Seconds to wait for another build of the same image: a whole number, 0 or more.</summary>
    public static int ParseLockTimeout(string value, string what, SourceLocation? location) =>
        int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Invalid(what, value, "a whole number of seconds (0: fail at once if another build holds the image)", location);

    /// <summary>
    /// The image's name is a file name: no folder parts, so every output stays in the output folder
    /// (where `dotnet clean` finds it) and nothing is written elsewhere.
    /// </summary>
    public static void CheckImageName(string name, SourceLocation? location)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal)
            || name.Any(char.IsControl))
        {
            throw new DibException(
                DibCodes.InvalidImageName,
                $"Invalid ImageName '{name}': it names the output file, so it cannot be empty, '.' or '..', or hold '/' or control characters. Choose the folder with ImageOutputDirectory (the CLI: -o DIR/NAME).",
                location);
        }
    }

    /// <summary>
    /// Package names as apt, dnf and zypper know them (letters, digits, + . _ - ~, a version after
    /// '=', an architecture after ':', a release after '/', a trailing '-' to remove), never
    /// starting with '-': such a name would reach the package manager as an option.
    /// </summary>
    public static void CheckPackages(IEnumerable<string> packages, SourceLocation? location)
    {
        var bad = packages.Where(p => !PackagePattern().IsMatch(p)).ToList();
        if (bad.Count > 0)
        {
            throw new DibException(
                DibCodes.InvalidPackageName,
                $"Invalid package name(s): {string.Join(", ", bad.Select(b => $"'{b}'"))}. A package name starts with a letter or digit and holds only letters, digits and + . _ - ~ (with =VERSION, :ARCH or /RELEASE after it).",
                location);
        }
    }

    /// <summary>
    /// ImageType (disk or ramdisk) and the ramdisk element into the request's one value: the
    /// element that builds the ramdisk, or null for a disk image. The element comes from
    /// RamdiskElement, else RAMDISK_ELEMENT or DIB_RAMDISK_ELEMENT (DIB's variable), else ramdisk.
    /// </summary>
    public static string? ParseImageType(string? imageType, string? ramdiskElement, Func<string, string?> variable, SourceLocation? location)
    {
        switch (imageType?.Trim().ToLowerInvariant())
        {
            case null or "" or "disk":
                return null;
            case "ramdisk":
                string?[] choices = [ramdiskElement, variable("RAMDISK_ELEMENT"), variable("DIB_RAMDISK_ELEMENT")];
                return choices.FirstOrDefault(c => !string.IsNullOrWhiteSpace(c))?.Trim() ?? Output.Ramdisk.DefaultElement;
            default:
                throw new DibException(DibCodes.InvalidImageType, $"Invalid ImageType '{imageType}': expected disk (the default) or ramdisk (a kernel and initramfs, as ramdisk-image-create).", location);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9+._~-]*(:[A-Za-z0-9_-]+)?(=[A-Za-z0-9+.:~_-]+|/[A-Za-z0-9+._-]+)?-?$", RegexOptions.CultureInvariant)]
    private static partial Regex PackagePattern();

    private static DibException Invalid(string what, string value, string expected, SourceLocation? location) =>
        new(DibCodes.InvalidProperty, $"Invalid {what} '{value}': expected {expected}.", location);

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)([KMGTkmgt]?)$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
