namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// A validated block-device configuration: its nodes in an order where each follows its bases, and its
/// partition tables. <see cref="Source"/> is the file (or `DIB_BLOCK_DEVICE_CONFIG`) it was read from.
/// </summary>
internal sealed record BlockDeviceConfig(string Source, IReadOnlyList<LayoutNode> Nodes, IReadOnlyList<PartitioningNode> Tables)
{
    public IEnumerable<MkfsNode> FileSystems => Nodes.OfType<MkfsNode>();

    /// <summary>Mount points in DIB's mount order (sorted by path, so a parent comes before what is mounted inside it).</summary>
    public IReadOnlyList<MountNode> Mounts => [.. Nodes.OfType<MountNode>().OrderBy(m => m.MountPoint, StringComparer.Ordinal)];

    public LayoutNode Node(string name) => Nodes.First(n => n.Name == name);

    /// <summary>The one disk: more than one `local_loop` (DIB's extra data disks) is not made here.</summary>
    public LocalLoopNode Disk
    {
        get
        {
            var disks = Nodes.OfType<LocalLoopNode>().ToList();
            return disks.Count switch
            {
                1 => disks[0],
                0 => throw new DibException(DibCodes.BlockDeviceMissingKey, "The block-device configuration has no local_loop entry (the disk).", new SourceLocation(Source)),
                _ => throw new DibException(DibCodes.BlockDeviceUnsupported, $"The block-device configuration has {disks.Count} local_loop disks ({string.Join(", ", disks.Select(d => d.Name))}); one disk image is made here.", disks[1].Where),
            };
        }
    }

    /// <summary>The filesystem mounted at `/`.</summary>
    public MkfsNode Root =>
        Nodes.OfType<MountNode>().FirstOrDefault(m => m.MountPoint == "/") is { } root
            ? (MkfsNode)Node(root.Base)
            : throw new DibException(DibCodes.NoRootMount, "The block-device configuration mounts no filesystem at '/': add 'mount: {mount_point: /}' under the root filesystem's mkfs.", new SourceLocation(Source));

    /// <summary>The mount of a filesystem, if it has one.</summary>
    public MountNode? MountOf(MkfsNode fs) => Nodes.OfType<MountNode>().FirstOrDefault(m => m.Base == fs.Name);

    /// <summary>/etc/fstab as DIB writes it: one line per mount that has an `fstab` entry, by label (<see cref="BlockDevice.Fstab"/>).</summary>
    public string Fstab() => BlockDevice.Fstab.Render(
        from mount in Mounts
        let entry = Nodes.OfType<FstabNode>().FirstOrDefault(f => f.Base == mount.Name)
        where entry is not null
        let fs = (MkfsNode)Node(mount.Base)
        select BlockDevice.Fstab.Entry(mount.MountPoint, fs.Type, fs.Label, fs.Uuid ?? Guid.Empty, entry.Options, entry.DumpFreq, entry.FsckPassno));
}
