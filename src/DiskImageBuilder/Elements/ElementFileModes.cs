namespace DiskImageBuilder.Elements;

/// <summary>
/// The modes of an element library's files, for a library that NuGet extracted: NuGet keeps no
/// Unix modes and gives every file 0744, so a unit file or a README would be executable and a hook
/// its author left non-executable would run. The SDK and CLI packages carry the checkout's modes in
/// <see cref="FileName"/> at the library's top ("MODE PATH" per line, octal, paths relative to it;
/// eng/ElementFileModes.targets writes it at pack time), and the hooks tree gives its copies those
/// modes. A library without the file (a checkout, the user's own elements) keeps its files' own modes.
/// </summary>
public sealed class ElementFileModes
{
    public const string FileName = "element-modes.txt";

    // Read once per library for one hooks tree, never kept beyond it: a long-lived MSBuild node
    // would otherwise keep the modes of a package that has since been extracted again.
    private readonly Dictionary<string, IReadOnlyDictionary<string, UnixFileMode>> _libraries = new(StringComparer.Ordinal);

    /// <summary>The mode recorded for a file of <paramref name="element"/> (path relative to the element), if its library records modes.</summary>
    public UnixFileMode? Of(Element element, string relative)
    {
        var library = Path.GetDirectoryName(element.Directory)!;
        if (!_libraries.TryGetValue(library, out var modes))
        {
            _libraries[library] = modes = Read(library);
        }

        return modes.TryGetValue($"{Path.GetFileName(element.Directory)}/{relative}", out var mode) ? mode : null;
    }

    /// <summary>Parses a modes file; a line that is not "OCTAL PATH" is skipped (the file is ours, written by a target).</summary>
    public static IReadOnlyDictionary<string, UnixFileMode> Parse(IEnumerable<string> lines)
    {
        var modes = new Dictionary<string, UnixFileMode>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space is > 0 and <= 4 && line[..space].All(c => c is >= '0' and <= '7'))
            {
                modes[line[(space + 1)..]] = (UnixFileMode)Convert.ToInt32(line[..space], 8);
            }
        }

        return modes;
    }

    private static IReadOnlyDictionary<string, UnixFileMode> Read(string library)
    {
        var file = Path.Combine(library, FileName);
        return File.Exists(file) ? Parse(File.ReadLines(file)) : new Dictionary<string, UnixFileMode>();
    }
}
