using System.Text.RegularExpressions;

namespace DiskImageBuilder.Output;

/// <summary>
/// A package's licence from its machine-readable copyright file (/usr/share/doc/PKG/copyright in
/// Debian's copyright-format 1.0): the License of every Files paragraph, as one SPDX expression.
/// Debian's short names become SPDX identifiers where they name the same licence; others become
/// LicenseRef-NAME, which the SPDX document then defines.
/// </summary>
internal static partial class DebianCopyright
{
    private static readonly Dictionary<string, string> DebianToSpdx = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GPL-1"] = "GPL-1.0-only", ["GPL-1+"] = "GPL-1.0-or-later",
        ["GPL-2"] = "GPL-2.0-only", ["GPL-2+"] = "GPL-2.0-or-later",
        ["GPL-3"] = "GPL-3.0-only", ["GPL-3+"] = "GPL-3.0-or-later",
        ["LGPL-2"] = "LGPL-2.0-only", ["LGPL-2+"] = "LGPL-2.0-or-later",
        ["LGPL-2.1"] = "LGPL-2.1-only", ["LGPL-2.1+"] = "LGPL-2.1-or-later",
        ["LGPL-3"] = "LGPL-3.0-only", ["LGPL-3+"] = "LGPL-3.0-or-later",
        ["AGPL-3"] = "AGPL-3.0-only", ["AGPL-3+"] = "AGPL-3.0-or-later",
        ["GFDL-1.2"] = "GFDL-1.2-only", ["GFDL-1.2+"] = "GFDL-1.2-or-later",
        ["GFDL-1.3"] = "GFDL-1.3-only", ["GFDL-1.3+"] = "GFDL-1.3-or-later",
        ["Expat"] = "MIT", ["MIT"] = "MIT", ["Artistic"] = "Artistic-1.0-Perl", ["Artistic-1.0"] = "Artistic-1.0",
        ["Artistic-2.0"] = "Artistic-2.0", ["Apache-2.0"] = "Apache-2.0", ["Apache-1.1"] = "Apache-1.1",
        ["BSD-2-clause"] = "BSD-2-Clause", ["BSD-3-clause"] = "BSD-3-Clause", ["BSD-4-clause"] = "BSD-4-Clause",
        ["ISC"] = "ISC", ["Zlib"] = "Zlib", ["MPL-1.1"] = "MPL-1.1", ["MPL-2.0"] = "MPL-2.0", ["CC0-1.0"] = "CC0-1.0",
        ["PSF-2"] = "PSF-2.0", ["Python-2.0"] = "Python-2.0", ["OpenSSL"] = "OpenSSL", ["curl"] = "curl", ["X11"] = "X11",
        ["FSFAP"] = "FSFAP", ["FSFUL"] = "FSFUL", ["FSFULLR"] = "FSFULLR", ["BSL-1.0"] = "BSL-1.0", ["Unlicense"] = "Unlicense",
        ["WTFPL"] = "WTFPL", ["Sleepycat"] = "Sleepycat", ["OFL-1.1"] = "OFL-1.1", ["Ruby"] = "Ruby", ["bzip2-1.0.6"] = "bzip2-1.0.6",
        ["MIT-CMU"] = "MIT-CMU", ["TCL"] = "TCL", ["Unicode-DFS-2016"] = "Unicode-DFS-2016", ["BSD-1-clause"] = "BSD-1-Clause",
        ["Zope-2.1"] = "ZPL-2.1", ["ZPL-2.1"] = "ZPL-2.1", ["EPL-1.0"] = "EPL-1.0", ["EPL-2.0"] = "EPL-2.0", ["CC-BY-3.0"] = "CC-BY-3.0",
        ["CC-BY-4.0"] = "CC-BY-4.0", ["CC-BY-SA-3.0"] = "CC-BY-SA-3.0", ["CC-BY-SA-4.0"] = "CC-BY-SA-4.0", ["0BSD"] = "0BSD",
    };

    /// <summary>The licence of installed package <paramref name="package"/>, or null without a machine-readable copyright file.</summary>
    public static string? License(string tree, string package)
    {
        var file = TreePaths.Resolve(tree, $"usr/share/doc/{package}/copyright");
        if (file is null)
        {
            return null;
        }

        var paragraphs = PackageInventory.Stanzas(File.ReadAllText(file)).ToList();
        if (paragraphs.Count == 0 || !paragraphs[0].TryGetValue("Format", out var format) || !format.Contains("copyright-format", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var expressions = paragraphs
            .Where(p => p.ContainsKey("Files") && p.ContainsKey("License"))
            .Select(p => Expression(p["License"].Split('\n')[0]))
            .Where(e => e is not null)
            .Select(e => e!)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return expressions.Count switch
        {
            0 => null,
            1 => expressions[0],
            _ => string.Join(" AND ", expressions.Select(e => e.Contains(' ', StringComparison.Ordinal) ? $"({e})" : e)),
        };
    }

    /// <summary>
    /// One License line as SPDX: "A or B" and "A and B" keep their operators; a comma groups, as
    /// copyright-format says ("A or B, and C" is "(A OR B) AND C").
    /// </summary>
    public static string? Expression(string line)
    {
        var groups = new List<(string Operator, string Expression)>();
        foreach (var (group, index) in line.Split(',').Select((g, i) => (g.Trim(), i)))
        {
            var text = group;
            var op = "AND";
            var leading = LeadingOperator().Match(text);
            if (index > 0 && leading.Success)
            {
                op = leading.Groups[1].Value.ToUpperInvariant();
                text = text[leading.Length..];
            }

            var terms = Operators().Split(text);
            var parts = new List<string>();
            for (var i = 0; i < terms.Length; i++)
            {
                // Split keeps the captured operators at the odd positions.
                parts.Add(i % 2 == 1 ? terms[i].ToUpperInvariant() : Identifier(terms[i]));
            }

            if (parts.Count > 0 && parts[0].Length > 0)
            {
                groups.Add((op, string.Join(' ', parts)));
            }
        }

        if (groups.Count == 0)
        {
            return null;
        }

        return groups.Count == 1
            ? groups[0].Expression
            : string.Concat(groups.Select((g, i) => (i == 0 ? string.Empty : $" {g.Operator} ") + (g.Expression.Contains(' ', StringComparison.Ordinal) ? $"({g.Expression})" : g.Expression)));
    }

    /// <summary>A licence name as an SPDX identifier, or LicenseRef-NAME (see <see cref="IsReference"/>).</summary>
    public static string Identifier(string debianName)
    {
        var name = debianName.Trim();
        if (DebianToSpdx.TryGetValue(name, out var spdx))
        {
            return spdx;
        }

        var reference = InvalidRefChars().Replace(name, "-").Trim('-');
        return "LicenseRef-" + (reference.Length == 0 ? "unknown" : reference);
    }

    public static bool IsReference(string identifier) => identifier.StartsWith("LicenseRef-", StringComparison.Ordinal);

    /// <summary>Every identifier an expression uses.</summary>
    public static IEnumerable<string> Identifiers(string expression) =>
        expression.Split([' ', '(', ')'], StringSplitOptions.RemoveEmptyEntries).Where(t => t is not "AND" and not "OR");

    [GeneratedRegex(@"\s+(or|and)\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Operators();

    [GeneratedRegex(@"^(or|and)\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LeadingOperator();

    [GeneratedRegex("[^A-Za-z0-9.-]+", RegexOptions.CultureInvariant)]
    private static partial Regex InvalidRefChars();
}
