using System.Globalization;
using System.Text.RegularExpressions;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A size as DIB's block-device configuration writes it: bytes, a number with a unit (KiB..TiB are
/// powers of 1024; K/KB..T/TB powers of 1000; B or nothing bytes; a fraction is allowed), or a percentage
/// of the space still free where it is used (DIB's relative size).
/// </summary>
internal sealed partial record LayoutSize(long Bytes, double Percent, bool IsPercent)
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
        ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000),
        ("T", 1_000_000_000_000), ("G", 1_000_000_000), ("M", 1_000_000), ("K", 1_000),
        ("B", 1), (string.Empty, 1),
    ];

    /// <summary>The size in bytes where <paramref name="free"/> bytes are still free (DIB truncates a percentage to whole bytes).</summary>
    public long Resolve(long free) => IsPercent ? (long)(free * Percent / 100.0) : Bytes;

    public override string ToString() => IsPercent ? string.Create(CultureInfo.InvariantCulture, $"{Percent}%") : string.Create(CultureInfo.InvariantCulture, $"{Bytes} bytes");

    /// <summary>Parses a size, a percentage only where <paramref name="relative"/>; null when the text is not one.</summary>
    public static LayoutSize? TryParse(string text, bool relative)
    {
        text = text.Trim();
        if (relative && text.EndsWith('%'))
        {
            return double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent) && percent > 0 && percent <= 100
                ? new LayoutSize(0, percent, true)
                : null;
        }

        var m = SizeSpec().Match(text);
        if (!m.Success)
        {
            return null;
        }

        var factor = Units.Where(u => u.Unit == m.Groups[2].Value).Select(u => (long?)u.Factor).FirstOrDefault();
        if (factor is null)
        {
            return null;
        }

        var number = m.Groups[1].Value;
        if (number.Length == 0)
        {
            return new LayoutSize(factor.Value, 0, false);
        }

        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var count) && count * factor.Value < long.MaxValue
            ? new LayoutSize((long)(count * factor.Value), 0, false)
            : null;
    }

    [GeneratedRegex(@"^([0-9.]*) ?([a-zA-Z0-9_]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex SizeSpec();
}
