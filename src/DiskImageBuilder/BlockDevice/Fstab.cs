using System.Text;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// The image's /etc/fstab as DIB writes it: one line per mount entry that has an fstab entry,
/// "device mount-point type options dump-freq fsck-passno" separated by single spaces, in the
/// order of the mount points' names (parents before children: / &lt; /boot &lt; /boot/efi &lt; /var
/// &lt; /var/log), the whole file replaced. DIB writes it into the tree right after the layout's
/// filesystems exist and before the tree is copied into them, so finalise.d hooks already see it:
/// here that is after block-device.d and before finalise.d, before <see cref="TreeSplit.Split"/>.
/// </summary>
internal static class Fstab
{
    public const string DefaultOptions = "defaults";
    public const int DefaultDumpFreq = 0;
    public const int DefaultFsckPassno = 2;

    /// <summary>
    /// An entry with DIB's defaults: options "defaults", dump-freq 0, fsck-passno 2; swap always
    /// "sw 0 0" whatever was given. The device is LABEL= when there is a label, else UUID=.
    /// </summary>
    public static FstabEntry Entry(string mountPoint, string fsType, string? label, Guid uuid, string? options = null, int? dumpFreq = null, int? fsckPassno = null)
    {
        var device = string.IsNullOrEmpty(label) ? $"UUID={uuid}" : $"LABEL={label}";
        return fsType == FileSystemMaker.Swap
            ? new FstabEntry(device, mountPoint, fsType, "sw", 0, 0)
            : new FstabEntry(device, mountPoint, fsType, string.IsNullOrWhiteSpace(options) ? DefaultOptions : options.Trim(), dumpFreq ?? DefaultDumpFreq, fsckPassno ?? DefaultFsckPassno);
    }

    /// <summary>The file's text: the entries ordered by mount point (ordinal, as DIB sorts them), one per line.</summary>
    public static string Render(IEnumerable<FstabEntry> entries)
    {
        var text = new StringBuilder();
        foreach (var entry in entries.OrderBy(e => e.MountPoint, StringComparer.Ordinal))
        {
            text.Append(entry).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Writes <paramref name="text"/> as the tree's /etc/fstab (0644), replacing what is there. A
    /// symbolic link there is replaced, not followed: it could point out of the tree.
    /// </summary>
    public static string WriteInto(string tree, string text)
    {
        var etc = Path.Combine(tree, "etc");
        Directory.CreateDirectory(etc);
        var path = Path.Combine(etc, "fstab");
        if (new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }

        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return path;
    }
}
