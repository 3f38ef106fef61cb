namespace DiskImageBuilder.Output;

/// <summary>
/// The packages installed in a tree, read from dpkg's database (/var/lib/dpkg/status) on the host:
/// what `dpkg-query -W` lists, without running anything in the image, so a tree with no dpkg (or
/// no OS) simply has none.
/// </summary>
internal static class PackageInventory
{
    public const string StatusFile = "var/lib/dpkg/status";

    /// <summary>The distro name for package URLs: ID= of the tree's os-release, else debian.</summary>
    public static string Distro(string tree)
    {
        foreach (var candidate in (string[])["etc/os-release", "usr/lib/os-release"])
        {
            var file = TreePaths.Resolve(tree, candidate);
            if (file is not null)
            {
                var id = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("ID=", StringComparison.Ordinal));
                if (id is not null)
                {
                    return id[3..].Trim('"', '\'', ' ');
                }
            }
        }

        return "debian";
    }

    /// <summary>Installed packages (status "install ok installed" or held), sorted by name and architecture.</summary>
    public static IReadOnlyList<InstalledPackage> Read(string tree)
    {
        var status = TreePaths.Resolve(tree, StatusFile);
        if (status is null)
        {
            return [];
        }

        var packages = new List<InstalledPackage>();
        foreach (var stanza in Stanzas(File.ReadAllText(status)))
        {
            if (!stanza.TryGetValue("Package", out var name) || !stanza.TryGetValue("Status", out var state) || !state.EndsWith(" installed", StringComparison.Ordinal))
            {
                continue;
            }

            var version = stanza.GetValueOrDefault("Version", string.Empty);
            var architecture = stanza.GetValueOrDefault("Architecture", string.Empty);

            // "Source: name (version)" when the source version differs; the package's own when absent.
            var source = stanza.GetValueOrDefault("Source", name).Trim();
            var sourceVersion = version;
            var open = source.IndexOf(" (", StringComparison.Ordinal);
            if (open > 0 && source.EndsWith(')'))
            {
                sourceVersion = source[(open + 2)..^1];
                source = source[..open];
            }

            packages.Add(new InstalledPackage(name, version, architecture, source, sourceVersion, DebianCopyright.License(tree, name)));
        }

        return [.. packages.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Architecture, StringComparer.Ordinal)];
    }

    /// <summary>The RFC 822 style paragraphs of a Debian control file: field name to value (continuation lines joined).</summary>
    public static IEnumerable<Dictionary<string, string>> Stanzas(string text)
    {
        var current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                if (current.Count > 0)
                {
                    yield return current;
                }

                current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                last = null;
            }
            else if ((line[0] == ' ' || line[0] == '\t') && last is not null)
            {
                current[last] += "\n" + line.Trim();
            }
            else
            {
                var colon = line.IndexOf(':');
                if (colon > 0)
                {
                    last = line[..colon];
                    current[last] = line[(colon + 1)..].Trim();
                }
            }
        }

        if (current.Count > 0)
        {
            yield return current;
        }
    }
}
