using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// Writes a compressed qcow2 (version 3, 64 KiB clusters, zstd), what <c>qemu-img convert -c -o
/// compression_type=zstd</c> writes, with two differences that make rebuilds fast: clusters are
/// compressed on every core, and a cluster whose content the previous image already holds is copied
/// from it compressed, not compressed again (an index beside the work directory remembers which).
/// Layout: the header, the compressed (or, when incompressible, raw) data clusters in disk order,
/// then the L2 tables, the L1 table and the refcounts at the end.
/// A cluster is known by a 128-bit hash (<see cref="ClusterHash"/>): accidental collisions are out
/// of reach, and it runs many times faster than SHA-256, which took a third of a rebuild's time here.
/// </summary>
internal static partial class Qcow2Writer
{
    private const int ClusterBits = 16;
    private const int ClusterSize = 1 << ClusterBits;
    private const int L2Entries = ClusterSize / 8;
    private const int RefcountsPerBlock = ClusterSize / 2; // refcount_order 4: 16 bits each
    private const int CompressionLevel = 3; // zstd's default, as qemu uses
    private const int Batch = 256; // clusters compressed in parallel before being written in order
    private const ulong Copied = 1UL << 63;
    private const ulong CompressedFlag = 1UL << 62;
    private const int SizeShift = 62 - (ClusterBits - 8);
    private const ulong IndexMagic = 0x3258444951424944; // "DIBQIDX2": an index of ClusterHash values

    /// <summary>Whether libzstd can be loaded here; otherwise qemu-img does the conversion.</summary>
    public static bool Available()
    {
        try
        {
            return ZSTD_versionNumber() > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <param name="previous">The image this one replaces (read while writing), with <paramref name="index"/>.</param>
    /// <param name="index">Where the hash of each data cluster is remembered for the next build; null: nothing is reused.</param>
    /// <returns>
    /// How many data clusters were copied from the previous image, how many there are, and how many
    /// the index offered whose copy in the previous image no longer held that data (the image was
    /// changed in place: compressed again instead).
    /// </returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (int Reused, int Total, int Rejected) Write(string raw, string destination, string? previous, string? index, CancellationToken cancellationToken)
    {
        using var input = File.OpenHandle(raw, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var size = RandomAccess.GetLength(input);
        if (size % ClusterSize != 0)
        {
            throw new DibException(DibCodes.Internal, $"The raw disk is {size} bytes, not a whole number of 64 KiB clusters.");
        }

        var known = index is null || previous is null ? null : ReadIndex(index, previous);
        using var old = known is null ? null : File.OpenHandle(previous!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var clusters = (int)(size / ClusterSize);
        var l2 = new ulong[clusters];
        var refcounts = new List<ushort> { 1 }; // cluster 0: the header
        var remembered = new List<(UInt128 Hash, long Offset, int Length)>();
        var reused = 0;
        var total = 0;

        using var output = new FileStream(destination, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        output.SetLength(ClusterSize);
        output.Position = ClusterSize;
        FileStream? rawClusters = null;
        var rawIndexes = new List<int>();
        // Two sets of slots: batch k is written here while the next one is prepared on every core.
        var withData = ClustersWithData(input, size);
        Slots[] sets = [new(input, withData, known, old), new(input, withData, known, old)];
        var workers = Math.Min(Environment.ProcessorCount, Batch);
        // One call per core, each looping over its share: no per-cluster delegate calls.
        Task Prepare(Slots slots, int first) => DedicatedThreads.Start(() =>
            DedicatedThreads.ForEach(workers, w => slots.Fill(w, workers, first, Math.Min(Batch, clusters - first))));

        var next = clusters > 0 ? Prepare(sets[0], 0) : Task.CompletedTask;
        try
        {
            for (int first = 0, set = 0; first < clusters; first += Batch, set ^= 1)
            {
                next.GetAwaiter().GetResult();
                cancellationToken.ThrowIfCancellationRequested();
                next = first + Batch < clusters ? Prepare(sets[set ^ 1], first + Batch) : Task.CompletedTask;
                var (data, blobs, lengths, hashes, kinds) = (sets[set].Data, sets[set].Blobs, sets[set].Lengths, sets[set].Hashes, sets[set].Kinds);
                var count = Math.Min(Batch, clusters - first);
                for (var i = 0; i < count; i++)
                {
                    var cluster = first + i;
                    if (kinds[i] == Kind.Zero)
                    {
                        continue;
                    }

                    total++;
                    if (kinds[i] == Kind.Raw)
                    {
                        // Incompressible: a plain cluster, as qemu stores it; set apart so the
                        // compressed clusters stay packed, and placed after them.
                        rawClusters ??= new FileStream(destination + ".raw", FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
                        rawIndexes.Add(cluster);
                        rawClusters.Write(data[i]);
                        remembered.Add((hashes[i], 0, ClusterSize));
                        continue;
                    }

                    reused += kinds[i] == Kind.Reused ? 1 : 0;
                    var offset = output.Position;
                    var length = lengths[i];
                    var sectors = ((offset + length - 1) >> 9) - (offset >> 9);
                    l2[cluster] = CompressedFlag | ((ulong)sectors << SizeShift) | (ulong)offset;
                    output.Write(blobs[i], 0, length);
                    Count(refcounts, offset, length);
                    remembered.Add((hashes[i], offset, length));
                }
            }
        }
        catch
        {
            // The next batch may still be read on other threads: the handles stay open until it ends.
            DedicatedThreads.WaitOut(next);
            throw;
        }

        if (rawClusters is not null)
        {
            AlignOutput(output, refcounts);
            var start = (ulong)output.Position;
            for (var k = 0; k < rawIndexes.Count; k++)
            {
                l2[rawIndexes[k]] = (start + ((ulong)k << ClusterBits)) | Copied;
                refcounts.Add(1);
            }

            rawClusters.Position = 0;
            rawClusters.CopyTo(output);
            rawClusters.Dispose();
        }

        WriteMetadata(output, l2, refcounts, size);
        output.Flush(flushToDisk: false);
        if (index is not null)
        {
            output.Close();
            WriteIndex(index, destination, remembered);
        }

        return (reused, total, sets.Sum(s => s.Rejected));
    }

    /// <summary>Which clusters hold data, from SEEK_DATA/SEEK_HOLE: the holes of a sparse disk are never read.</summary>
    private static bool[] ClustersWithData(Microsoft.Win32.SafeHandles.SafeFileHandle input, long size)
    {
        const int SeekData = 3, SeekHole = 4;
        var result = new bool[size / ClusterSize];
        var fd = (int)input.DangerousGetHandle();
        long position = 0;
        while (position < size)
        {
            var data = lseek(fd, position, SeekData);
            if (data < 0)
            {
                // ENXIO: no data after position. Anything else: the filesystem cannot say, read it all.
                if (Marshal.GetLastPInvokeError() != 6)
                {
                    Array.Fill(result, true);
                }

                break;
            }

            var hole = Math.Min(lseek(fd, data, SeekHole) is var h && h < 0 ? size : h, size);
            for (var c = data / ClusterSize; c < (hole + ClusterSize - 1) / ClusterSize; c++)
            {
                result[c] = true;
            }

            position = hole;
        }

        return result;
    }

    /// <summary>
    /// One cluster buffer and one compression buffer per slot of a batch, reused batch after batch.
    /// The loops are compiled fully optimised at once: a build runs them once, in a fresh process,
    /// where tiered compilation would run them unoptimised for much of the time.
    /// </summary>
    private sealed class Slots(
        Microsoft.Win32.SafeHandles.SafeFileHandle input, bool[] withData, Dictionary<UInt128, (long Offset, int Length)>? known, Microsoft.Win32.SafeHandles.SafeFileHandle? old)
    {
        private static readonly int Bound = (int)ZSTD_compressBound(ClusterSize);

        public byte[][] Data { get; } = [.. Enumerable.Range(0, Batch).Select(_ => new byte[ClusterSize])];

        public byte[][] Blobs { get; } = [.. Enumerable.Range(0, Batch).Select(_ => new byte[Bound])];

        public int[] Lengths { get; } = new int[Batch];

        public UInt128[] Hashes { get; } = new UInt128[Batch];

        public Kind[] Kinds { get; } = new Kind[Batch];

        /// <summary>A cluster of the previous image, decompressed to be checked before it is reused.</summary>
        public byte[][] Checks { get; } = [.. Enumerable.Range(0, Batch).Select(_ => new byte[ClusterSize])];

        private int _rejected;

        public int Rejected => _rejected;

        /// <summary>Prepares slots <paramref name="worker"/>, +<paramref name="workers"/>, … of the batch starting at cluster <paramref name="first"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(int worker, int workers, int first, int count)
        {
            for (var i = worker; i < count; i += workers)
            {
                (Kinds[i], Hashes[i], Lengths[i]) = withData[first + i]
                    ? Prepare(input, (long)(first + i) * ClusterSize, known, old, Data[i], Blobs[i], Checks[i], ref _rejected)
                    : (Kind.Zero, default, 0);
            }
        }
    }

    private enum Kind
    {
        Zero,
        Compressed,
        Reused,
        Raw,
    }

    /// <summary>Reads one cluster into <paramref name="data"/>; a compressed form, if any, goes to <paramref name="blob"/>.</summary>
    /// <returns>What the cluster is, its hash, and the length of its compressed form.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Kind, UInt128, int) Prepare(
        Microsoft.Win32.SafeHandles.SafeFileHandle input, long offset, Dictionary<UInt128, (long Offset, int Length)>? known, Microsoft.Win32.SafeHandles.SafeFileHandle? old,
        byte[] data, byte[] blob, byte[] check, ref int rejected)
    {
        var read = 0;
        while (read < ClusterSize)
        {
            var n = RandomAccess.Read(input, data.AsSpan(read), offset + read);
            if (n == 0)
            {
                throw new DibException(DibCodes.Internal, "The raw disk ended early.");
            }

            read += n;
        }

        if (data.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            return (Kind.Zero, default, 0);
        }

        var hash = ClusterHash(data);
        if (known is not null && known.TryGetValue(hash, out var at))
        {
            // Incompressible last time: stored raw again, without trying zstd.
            if (at.Length == ClusterSize)
            {
                return (Kind.Raw, hash, 0);
            }

            // The index and the image are matched by size and time only: an image changed in place
            // keeps both. So every cluster copied is decompressed and compared with the data it
            // stands for (zstd decompresses at several GB/s; compressing again costs far more).
            if (old is not null && RandomAccess.Read(old, blob.AsSpan(0, at.Length), at.Offset) == at.Length)
            {
                if (Decompress(blob, at.Length, check) == ClusterSize && check.AsSpan().SequenceEqual(data))
                {
                    return (Kind.Reused, hash, at.Length);
                }

                Interlocked.Increment(ref rejected);
            }
        }

        var compressed = Compress(data, blob);
        return compressed < 0 ? (Kind.Raw, hash, 0) : (Kind.Compressed, hash, compressed);
    }

    /// <summary>
    /// XXH64 (Yann Collet's public algorithm, for inputs of whole 32-byte stripes) under two seeds,
    /// in one pass: 128 bits. Ours rather than System.IO.Hashing's because a build runs this once in
    /// a fresh process, where the library's vector code ran unoptimised (tiered compilation) for
    /// most of the time: 0.6 s against 0.4 s for a rebuild's qcow2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static UInt128 ClusterHash(ReadOnlySpan<byte> data)
    {
        const ulong P1 = 11400714785074694791, P2 = 14029467366897019727, P3 = 1609587929392839161, P4 = 9650029242287828579;
        const ulong SeedB = 0x9E3779B97F4A7C15;
        if (data.Length % 32 != 0 || !BitConverter.IsLittleEndian)
        {
            throw new ArgumentException("whole 32-byte stripes, little-endian", nameof(data));
        }

        // Arithmetic modulo 2^64, as the algorithm wants (constant expressions are checked by default).
        static ulong Round(ulong acc, ulong input) => unchecked(BitOperations.RotateLeft(acc + (input * P2), 31) * P1);
        static ulong Merge(ulong acc, ulong v) => unchecked(((acc ^ Round(0, v)) * P1) + P4);
        static ulong Finish(ulong v1, ulong v2, ulong v3, ulong v4, int length)
        {
            unchecked
            {
                var h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
                h = Merge(Merge(Merge(Merge(h, v1), v2), v3), v4) + (ulong)length;
                h = (h ^ (h >> 33)) * P2;
                h = (h ^ (h >> 29)) * P3;
                return h ^ (h >> 32);
            }
        }

        ulong a1 = unchecked(P1 + P2), a2 = P2, a3 = 0, a4 = unchecked(0 - P1);
        ulong b1 = unchecked(SeedB + P1 + P2), b2 = unchecked(SeedB + P2), b3 = SeedB, b4 = unchecked(SeedB - P1);
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        for (var i = 0; i < words.Length; i += 4)
        {
            a1 = Round(a1, words[i]);
            a2 = Round(a2, words[i + 1]);
            a3 = Round(a3, words[i + 2]);
            a4 = Round(a4, words[i + 3]);
            b1 = Round(b1, words[i]);
            b2 = Round(b2, words[i + 1]);
            b3 = Round(b3, words[i + 2]);
            b4 = Round(b4, words[i + 3]);
        }

        return new UInt128(Finish(a1, a2, a3, a4, data.Length), Finish(b1, b2, b3, b4, data.Length));
    }

    /// <summary>Decompresses one zstd frame of <paramref name="length"/> bytes into <paramref name="cluster"/>; its size, or -1 when it is no valid frame.</summary>
    private static unsafe long Decompress(byte[] blob, int length, byte[] cluster)
    {
        nuint written;
        fixed (byte* src = blob)
        fixed (byte* dst = cluster)
        {
            written = ZSTD_decompress(dst, (nuint)cluster.Length, src, (nuint)length);
        }

        return ZSTD_isError(written) != 0 ? -1 : (long)written;
    }

    /// <summary>zstd's frame for one cluster into <paramref name="buffer"/>; its length, or -1 when it would not be smaller than the cluster.</summary>
    private static unsafe int Compress(byte[] data, byte[] buffer)
    {
        nuint written;
        fixed (byte* src = data)
        fixed (byte* dst = buffer)
        {
            written = ZSTD_compress(dst, (nuint)buffer.Length, src, (nuint)data.Length, CompressionLevel);
        }

        if (ZSTD_isError(written) != 0)
        {
            throw new DibException(DibCodes.OutputFailed, $"zstd could not compress a cluster (error {written}).");
        }

        return (int)written >= ClusterSize - 512 ? -1 : (int)written;
    }

    // Every host cluster a compressed blob touches counts one reference, as qemu counts them.
    private static void Count(List<ushort> refcounts, long offset, int length)
    {
        var firstCluster = (int)(offset >> ClusterBits);
        var lastCluster = (int)((offset + length - 1) >> ClusterBits);
        for (var c = firstCluster; c <= lastCluster; c++)
        {
            while (refcounts.Count <= c)
            {
                refcounts.Add(0);
            }

            refcounts[c]++;
        }
    }

    private static void AlignOutput(FileStream output, List<ushort> refcounts)
    {
        var aligned = (output.Position + ClusterSize - 1) & ~(long)(ClusterSize - 1);
        output.SetLength(Math.Max(output.Length, aligned));
        output.Position = aligned;
        while (refcounts.Count < aligned >> ClusterBits)
        {
            refcounts.Add(0);
        }
    }

    private static void WriteMetadata(FileStream output, ulong[] l2, List<ushort> refcounts, long size)
    {
        AlignOutput(output, refcounts);
        var l2Tables = (l2.Length + L2Entries - 1) / L2Entries;
        var l1Clusters = ((l2Tables * 8) + ClusterSize - 1) / ClusterSize;
        var dataClusters = (int)(output.Position >> ClusterBits);

        // The refcount blocks count themselves and the table that points at them: grow until they fit.
        int blocks = 0, tableClusters = 0, allClusters;
        while (true)
        {
            allClusters = dataClusters + l2Tables + l1Clusters + tableClusters + blocks;
            var needBlocks = (allClusters + RefcountsPerBlock - 1) / RefcountsPerBlock;
            var needTable = ((needBlocks * 8) + ClusterSize - 1) / ClusterSize;
            if (needBlocks == blocks && needTable == tableClusters)
            {
                break;
            }

            (blocks, tableClusters) = (needBlocks, needTable);
        }

        var l2Start = (long)dataClusters << ClusterBits;
        var l1Start = l2Start + ((long)l2Tables << ClusterBits);
        var tableStart = l1Start + ((long)l1Clusters << ClusterBits);
        var blocksStart = tableStart + ((long)tableClusters << ClusterBits);
        while (refcounts.Count < allClusters)
        {
            refcounts.Add(1); // the metadata clusters themselves
        }

        var buffer = new byte[ClusterSize];
        for (var t = 0; t < l2Tables; t++)
        {
            Array.Clear(buffer);
            for (var i = 0; i < L2Entries && (t * L2Entries) + i < l2.Length; i++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(i * 8), l2[(t * L2Entries) + i]);
            }

            output.Write(buffer);
        }

        var l1 = new byte[l1Clusters * ClusterSize];
        for (var t = 0; t < l2Tables; t++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(l1.AsSpan(t * 8), (ulong)(l2Start + ((long)t << ClusterBits)) | Copied);
        }

        output.Write(l1);
        var table = new byte[tableClusters * ClusterSize];
        for (var b = 0; b < blocks; b++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(b * 8), (ulong)(blocksStart + ((long)b << ClusterBits)));
        }

        output.Write(table);
        var counts = new byte[blocks * ClusterSize];
        for (var c = 0; c < allClusters; c++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(counts.AsSpan(c * 2), refcounts[c]);
        }

        output.Write(counts);

        // The header (qcow2 v3 with the compression type field; no extensions).
        Array.Clear(buffer);
        var h = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h, 0x514649fb); // "QFI\xfb"
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], 3);
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], ClusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], (ulong)size);
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)l2Tables);
        BinaryPrimitives.WriteUInt64BigEndian(h[40..], (ulong)l1Start);
        BinaryPrimitives.WriteUInt64BigEndian(h[48..], (ulong)tableStart);
        BinaryPrimitives.WriteUInt32BigEndian(h[56..], (uint)tableClusters);
        BinaryPrimitives.WriteUInt64BigEndian(h[72..], 1UL << 3); // incompatible: compression type is set
        BinaryPrimitives.WriteUInt32BigEndian(h[96..], 4); // refcount_order: 16-bit refcounts
        BinaryPrimitives.WriteUInt32BigEndian(h[100..], 112); // header length
        h[104] = 1; // compression type: zstd
        output.Position = 0;
        output.Write(buffer, 0, 120); // the header and an end-of-extensions marker (zeros)
    }

    // The index: a magic number, the image's length and time, then one (hash, offset, length) per
    // data cluster; length ClusterSize marks one stored raw.
    private static Dictionary<UInt128, (long Offset, int Length)>? ReadIndex(string index, string previous)
    {
        if (!File.Exists(index) || !File.Exists(previous))
        {
            return null;
        }

        try
        {
            using var reader = new BinaryReader(File.OpenRead(index));
            var info = new FileInfo(previous);
            if (reader.ReadUInt64() != IndexMagic || reader.ReadInt64() != info.Length || reader.ReadInt64() != info.LastWriteTimeUtc.Ticks)
            {
                return null;
            }

            var count = reader.ReadInt32();
            var known = new Dictionary<UInt128, (long, int)>(count);
            for (var i = 0; i < count; i++)
            {
                var hash = new UInt128(reader.ReadUInt64(), reader.ReadUInt64());
                known[hash] = (reader.ReadInt64(), reader.ReadInt32());
            }

            return known;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    private static void WriteIndex(string index, string image, List<(UInt128 Hash, long Offset, int Length)> entries)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(index)!);
        var info = new FileInfo(image);
        using var writer = new BinaryWriter(File.Create(index));
        writer.Write(IndexMagic);
        writer.Write(info.Length);
        writer.Write(info.LastWriteTimeUtc.Ticks);
        writer.Write(entries.Count);
        foreach (var (hash, offset, length) in entries)
        {
            writer.Write((ulong)(hash >> 64));
            writer.Write((ulong)hash);
            writer.Write(offset);
            writer.Write(length);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long lseek(int fd, long offset, int whence);

    [LibraryImport("libzstd.so.1")]
    private static unsafe partial nuint ZSTD_compress(byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compressBound(nuint srcSize);

    [LibraryImport("libzstd.so.1")]
    private static unsafe partial nuint ZSTD_decompress(byte* dst, nuint dstCapacity, byte* src, nuint compressedSize);

    [LibraryImport("libzstd.so.1")]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport("libzstd.so.1")]
    private static partial uint ZSTD_versionNumber();
}
