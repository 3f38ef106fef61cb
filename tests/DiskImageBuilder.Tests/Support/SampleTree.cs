namespace DiskImageBuilder.Tests;

/// <summary>
/// A small tree with what a filesystem must keep: owners, modes with setuid/setgid/sticky, hard
/// links, symbolic links, device nodes, a FIFO, xattrs (a file capability and a user attribute),
/// and a 3 MiB file of random bytes. Made with the real tools, as root.
/// </summary>
internal static class SampleTree
{
    /// <summary>Fills <paramref name="dir"/>; <paramref name="plain"/> leaves out hard links and xattrs.</summary>
    public static void Fill(string dir, bool plain = false)
    {
        var script = """
            set -eu
            mkdir -p "$1" && cd "$1"
            mkdir -p etc usr/bin usr/lib home/alice dev run opt var/log
            printf 'sample\n' > etc/hostname
            printf '#!/bin/sh\necho tool\n' > usr/bin/tool && chmod 4755 usr/bin/tool
            printf 'lib\n' > usr/lib/libx.so.1 && ln -s libx.so.1 usr/lib/libx.so
            ln -s usr/bin bin
            printf 'secret\n' > home/alice/notes.txt
            chown -R 1234:5678 home/alice && chmod 0700 home/alice && chmod 0640 home/alice/notes.txt
            chmod 2775 opt && chown 0:50 opt
            mknod dev/null c 1 3 && mknod dev/loop7 b 7 7 && chmod 0660 dev/loop7 && chown 0:6 dev/loop7
            mkfifo run/initctl
            head -c 3145728 /dev/urandom > opt/blob.bin
            printf 'log line\n' > var/log/syslog && chown 0:4 var/log/syslog && chmod 0640 var/log/syslog
            mkdir -p var/log/private && chmod 0700 var/log/private
            mkdir -p tmp var/tmp && chmod 1777 tmp var/tmp
            """;
        var extras = """
            ln usr/bin/tool usr/bin/tool-again
            setfattr -n user.dib -v yes var/log/syslog
            setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= usr/bin/tool
            """;
        ImageProject.Sh($"sh -c '{(plain ? script : script + "\n" + extras).Replace("'", "'\\''", StringComparison.Ordinal)}' sample '{dir}'");
    }

    /// <summary>
    /// Everything a filesystem should keep of the tree at <paramref name="dir"/>, one sorted line per
    /// entry: type, mode, owner, links (not of folders: ext's lost+found adds one), link target,
    /// content digest, optionally modification time (whole seconds: mke2fs -d keeps no more); then device numbers and every xattr.
    /// </summary>
    public static string Listing(string dir, bool times = true)
    {
        using var script = new TempDir();
        return ImageProject.Sh($"sh '{WriteScript(script, times)}' '{dir}'");
    }

    /// <summary><see cref="Listing"/> of a filesystem at <paramref name="offset"/> of <paramref name="image"/>, mounted read-only in a private mount namespace for the time of the listing.</summary>
    public static string ListingOfImage(string image, long offset, long size, bool times = true)
    {
        using var script = new TempDir();
        var mountPoint = Directory.CreateDirectory(script.Combine("mnt")).FullName;
        return ImageProject.Sh(
            $"unshare --mount --propagation private -- sh -c 'mount -o ro,loop,offset={offset},sizelimit={size} \"$1\" \"$2\" && sh \"$3\" \"$2\"; rc=$?; umount \"$2\"; exit $rc' "
            + $"listing '{image}' '{mountPoint}' '{WriteScript(script, times)}'");
    }

    private static string WriteScript(TempDir dir, bool times) => dir.Write("listing.sh", $$"""
        set -eu
        cd "$1"
        find . -path ./lost+found -prune -o -printf '%y %m %U:%G %P' \( -type d -printf '\n' -o -type l -printf ' -> %l\n' -o -printf ' links=%n{{(times ? " mtime=%Ts" : string.Empty)}}\n' \) | LC_ALL=C sort
        find . -path ./lost+found -prune -o -type f -exec md5sum {} + | LC_ALL=C sort
        find . -path ./lost+found -prune -o \( -type b -o -type c \) -exec stat -c '%n %t:%T' {} + | LC_ALL=C sort
        getfattr -R -h -d -m - . 2>/dev/null | awk '/^# file: /{f=substr($0,9);next} NF{print f" "$0}' | grep -v '^./lost+found' | LC_ALL=C sort || true
        """, executable: false);
}
