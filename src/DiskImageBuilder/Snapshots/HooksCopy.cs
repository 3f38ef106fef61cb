using System.Security.Cryptography;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Snapshots;

/// <summary>
/// What a step changed in the hooks tree, kept beside the step's snapshot: DIB elements add to
/// later phase folders during the build (install-types links the chosen install type's scripts
/// into install.d), and a build that restores that step instead of running it must still run
/// those scripts. Only the step's own changes are kept, so element files edited since stay as edited.
/// </summary>
internal static class HooksCopy
{
    private const string Folder = "hooks";
    private const string Removed = "hooks-removed";

    /// <summary>Every entry of the tree by relative path: its kind, and link target or mode and content hash.</summary>
    public static Dictionary<string, string> Fingerprint(string hooksRoot) =>
        new DirectoryInfo(hooksRoot).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .ToDictionary(
                e => Path.GetRelativePath(hooksRoot, e.FullName),
                e => e.LinkTarget is { } link ? "link " + link
                    : e is FileInfo ? $"{File.GetUnixFileMode(e.FullName)} {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(e.FullName)))}"
                    : "dir",
                StringComparer.Ordinal);

    /// <summary>Keeps in <paramref name="layerDirectory"/> what changed from <paramref name="before"/> to <paramref name="after"/>; false when nothing did.</summary>
    public static bool Save(string hooksRoot, IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after, string layerDirectory)
    {
        var changed = after.Where(e => !before.TryGetValue(e.Key, out var old) || old != e.Value).Select(e => e.Key).Order(StringComparer.Ordinal).ToList();
        var removed = before.Keys.Where(k => !after.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (changed.Count == 0 && removed.Count == 0)
        {
            return false;
        }

        var folder = Path.Combine(layerDirectory, Folder);
        Directory.CreateDirectory(folder);
        foreach (var dir in changed.Where(c => after[c] == "dir"))
        {
            Directory.CreateDirectory(Path.Combine(folder, dir));
        }

        // Not recursive: a new folder's entries are listed on their own.
        var files = changed.Where(c => after[c] != "dir").ToList();
        if (files.Count > 0)
        {
            ProcessRunner.RunChecked(
                new ProcessSpec("cp", ["-d", "--preserve=all", "--parents", "--", .. files, folder]) { WorkingDirectory = hooksRoot }, null, CancellationToken.None);
        }

        File.WriteAllLines(Path.Combine(layerDirectory, Removed), removed);
        return true;
    }

    /// <summary>Applies a step's kept changes to the hooks tree, if it kept any.</summary>
    public static void Apply(string layerDirectory, string hooksRoot)
    {
        var folder = Path.Combine(layerDirectory, Folder);
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var relative in File.ReadAllLines(Path.Combine(layerDirectory, Removed)))
        {
            HostFiles.RemoveTree(Path.Combine(hooksRoot, relative));
        }

        ProcessRunner.RunChecked(new ProcessSpec("cp", ["-a", "--", folder + "/.", hooksRoot]), null, CancellationToken.None);
    }
}
