using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A disk that is one filesystem and nothing else: what diskimage-builder writes when no element
/// provides `block-device` (its default layout puts the filesystem straight on the loop device).
/// Used for a tree with no OS to boot (no kernel and no /bin/sh, like DIB's fake-os test element),
/// which has no bootloader to place; a tree with an OS keeps the partitioned disk and its checks.
/// Assembled by <see cref="LayoutDisk"/> like every layout.
/// </summary>
internal static class FileSystemDisk
{
    /// <summary>Whether the tree's disk formats are a bare filesystem.</summary>
    public static bool Applies(string tree, ResolvedElements elements)
    {
        var boot = Path.Combine(tree, "boot");
        var hasKernel = Directory.Exists(boot) && Directory.EnumerateFiles(boot, "vmlinuz-*").Any();
        return !hasKernel && !Outputs.HasShell(tree) && !elements.Providers.ContainsKey(BlockDeviceChoice.Provided);
    }

    /// <summary>DIB's layout without a block-device element, named in the same model: the root filesystem straight on the disk, no partition table.</summary>
    public static BlockDeviceConfig Config(RootDefaults root) =>
        BlockDeviceConfigParser.Parse("- local_loop: {name: image0}\n- mkfs: {name: mkfs_root, base: image0, mount: {mount_point: /}}\n", "the bare filesystem layout", root);
}
