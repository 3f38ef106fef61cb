namespace DiskImageBuilder.Output;

/// <summary>An output format: the name users write, the file extension, and qemu-img's name for disk formats.</summary>
public sealed record ImageFormat(string Name, string Extension, string? QemuFormat = null)
{
    /// <summary>Disk formats come from the partitioned raw disk; the others from the tree.</summary>
    public bool IsDisk => QemuFormat is not null;
}
