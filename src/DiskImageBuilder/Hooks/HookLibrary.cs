namespace DiskImageBuilder.Hooks;

/// <summary>
/// The helpers diskimage-builder gives hook scripts, in our own versions: the `$_LIB` folder with
/// the files elements source from it (die, common-defaults, img-defaults, common-functions,
/// img-functions, dib-run-parts), a bin/ folder for host hooks' PATH (dib-run-parts and the
/// pass-through sudo), and the bash functions DIB exports to every hook (die, get_image_element_array).
/// </summary>
public static class HookLibrary
{
    /// <summary>The files of `$_LIB`, as diskimage-builder names them.</summary>
    public static readonly IReadOnlyList<string> Files = ["die", "common-defaults", "img-defaults", "common-functions", "img-functions", "dib-run-parts"];

    public const string RunParts = "dib-run-parts";

    /// <summary>Programs on the host hooks' PATH (in `$_LIB/bin`).</summary>
    public static readonly IReadOnlyList<string> HostPrograms = [RunParts, "sudo"];

    private static readonly Lazy<IReadOnlyDictionary<string, string>> Contents = new(() =>
        Files.Concat(HostPrograms).Distinct().ToDictionary(f => f, f => Resources.Get("lib/" + f), StringComparer.Ordinal));

    /// <summary>Everything the library holds: part of every phase snapshot's key, as the wrappers are.</summary>
    public static IEnumerable<string> Scripts => Contents.Value.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}\n{e.Value}");

    /// <summary>Writes `$_LIB` to <paramref name="directory"/> (in the build's work directory) and dib-run-parts into the hooks tree.</summary>
    public static void Write(string directory, string hooksRoot)
    {
        var bin = Path.Combine(directory, "bin");
        Directory.CreateDirectory(bin);
        foreach (var (name, text) in Contents.Value)
        {
            var executable = HostPrograms.Contains(name);
            if (Files.Contains(name))
            {
                WriteFile(Path.Combine(directory, name), text, executable);
            }

            if (executable)
            {
                WriteFile(Path.Combine(bin, name), text, executable: true);
            }
        }

        // diskimage-builder copies it into the hooks tree for the in-image phases: /tmp/in_target.d/dib-run-parts.
        WriteFile(Path.Combine(hooksRoot, RunParts), Contents.Value[RunParts], executable: true);
    }

    /// <summary>
    /// An exported bash function as bash passes it through the environment (what `export -f`
    /// does): the variable's name and value. Bash scripts, on the host and in the image, see it
    /// as a function.
    /// </summary>
    public static KeyValuePair<string, string> ExportedFunction(string name, string body) =>
        new($"BASH_FUNC_{name}%%", $"() {{ {body}\n}}");

    /// <summary>DIB's `die`, exported to every hook (elements call it without sourcing anything).</summary>
    public static KeyValuePair<string, string> Die()
    {
        var text = Contents.Value["die"];
        var start = text.IndexOf("die() {", StringComparison.Ordinal) + "die() {".Length;
        var end = text.LastIndexOf("\n}", StringComparison.Ordinal);
        return ExportedFunction("die", text[start..end]);
    }

    private static void WriteFile(string path, string text, bool executable)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
    }
}
