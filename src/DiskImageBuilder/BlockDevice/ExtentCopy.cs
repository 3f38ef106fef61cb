namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Places a filesystem file on the disk file over a list of extents, in order: the file's first
/// bytes fill the first extent, the next the second, and so on (a logical volume spanning two
/// physical volumes is not contiguous on the disk). Blocks of zeros are skipped, so a sparse disk
/// stays sparse: the disk must be zero there already (a new sparse file is).
/// </summary>
internal static class ExtentCopy
{
    private const int Chunk = 1024 * 1024;
    private const int Block = 4096;

    /// <summary>Copies <paramref name="image"/> onto <paramref name="extents"/> of <paramref name="disk"/>; returns the bytes written (zeros not counted).</summary>
    public static long Place(string image, string disk, IReadOnlyList<DiskExtent> extents, CancellationToken cancellationToken)
    {
        using var src = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, Chunk);
        var room = extents.Sum(e => e.Length);
        if (src.Length > room || extents.Any(e => e.Offset < 0 || e.Length < 0))
        {
            throw new DibException(
                DibCodes.ExtentsTooSmall,
                $"{Path.GetFileName(image)} ({src.Length} bytes) does not fit the {extents.Count} extent(s) planned for it ({room} bytes: {string.Join(", ", extents.Select(e => $"{e.Length}@{e.Offset}"))}).");
        }

        // The disk's own handle may stay open elsewhere (the scratch disk), so share it.
        using var dst = new FileStream(disk, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, Chunk);
        var buffer = new byte[Chunk];
        long written = 0;
        foreach (var extent in extents)
        {
            long done = 0;
            while (done < extent.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var read = src.Read(buffer, 0, (int)Math.Min(Chunk, extent.Length - done));
                if (read == 0)
                {
                    return written;
                }

                for (var at = 0; at < read; at += Block)
                {
                    var block = buffer.AsSpan(at, Math.Min(Block, read - at));
                    if (block.ContainsAnyExcept((byte)0))
                    {
                        dst.Position = extent.Offset + done + at;
                        dst.Write(block);
                        written += block.Length;
                    }
                }

                done += read;
            }
        }

        return written;
    }
}
