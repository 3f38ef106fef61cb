using DiskImageBuilder.BlockDevice;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Our qcow2 writer, checked by qemu-img itself: structure (check), content (compare), header (info).</summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed class Qcow2WriterTests
{
    private const int Cluster = 65536;

    /// <summary>A sparse 8 MiB disk: text (compressible), random bytes (not), zeros, and one repeated cluster.</summary>
    private static void WriteDisk(string path, int seed)
    {
        var random = new Random(seed);
        using var f = File.Create(path);
        f.SetLength(128L * Cluster);
        for (var c = 0; c < 128; c += 3)
        {
            var data = new byte[Cluster];
            if (c % 9 == 0)
            {
                random.NextBytes(data);
            }
            else
            {
                var text = System.Text.Encoding.ASCII.GetBytes($"cluster {c} of a test disk; ");
                for (var i = 0; i < Cluster; i++)
                {
                    data[i] = text[i % text.Length];
                }
            }

            f.Position = (long)c * Cluster;
            f.Write(data);
        }
    }

    private static void ShouldMatchRaw(string qcow2, string raw)
    {
        ImageProject.Sh($"qemu-img check '{qcow2}'").ShouldContain("No errors were found");
        ImageProject.Sh($"qemu-img compare -f raw -F qcow2 '{raw}' '{qcow2}'").ShouldContain("Images are identical");
        var info = ImageProject.Sh($"qemu-img info '{qcow2}'");
        info.ShouldContain("compression type: zstd");
        info.ShouldContain("virtual size: 8 MiB");
    }

    [Fact]
    public void Writes_an_image_qemu_reads_back_identical_and_reuses_unchanged_clusters()
    {
        Qcow2Writer.Available().ShouldBeTrue("libzstd1 comes with qemu-utils");
        using var dir = new TempDir();
        var raw = dir.Combine("disk.raw");
        var image = dir.Combine("disk.qcow2");
        var index = dir.Combine("index");
        WriteDisk(raw, 1);

        var first = Qcow2Writer.Write(raw, image, image, index, CancellationToken.None);
        first.Reused.ShouldBe(0);
        first.Total.ShouldBe(43);
        ShouldMatchRaw(image, raw);
        // 15 random clusters stay raw; the 28 text ones compress into one cluster.
        new FileInfo(image).Length.ShouldBe(21L * Cluster, "header, one cluster of packed compressed data, 15 raw, L2, L1, refcount table and block");

        // Change two clusters; the next image is written beside the previous one, as a build does.
        using (var f = File.OpenWrite(raw))
        {
            f.Position = 3L * Cluster;
            f.Write(new byte[100].Select((_, i) => (byte)(i + 1)).ToArray());
            f.Position = 127L * Cluster;
            f.Write("new data"u8);
        }

        var next = dir.Combine("next.qcow2");
        var second = Qcow2Writer.Write(raw, next, image, index, CancellationToken.None);
        second.Total.ShouldBe(44);
        second.Reused.ShouldBe(27, "the 28 compressed clusters but the changed one; incompressible clusters are stored raw again, not copied");
        ShouldMatchRaw(next, raw);
    }

    [Theory]
    [InlineData(32, 1)]
    [InlineData(4096, 2)]
    [InlineData(Cluster, 3)]
    public void The_cluster_hash_is_XXH64_under_two_seeds(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);

        var hash = Qcow2Writer.ClusterHash(data);

        ((ulong)(hash >> 64)).ShouldBe(System.IO.Hashing.XxHash64.HashToUInt64(data, 0));
        ((ulong)hash).ShouldBe(System.IO.Hashing.XxHash64.HashToUInt64(data, unchecked((long)0x9E3779B97F4A7C15)));
        data[length / 2] ^= 1;
        Qcow2Writer.ClusterHash(data).ShouldNotBe(hash);
    }

    [Fact]
    public void An_index_for_another_image_is_not_used()
    {
        using var dir = new TempDir();
        var raw = dir.Combine("disk.raw");
        var image = dir.Combine("disk.qcow2");
        var index = dir.Combine("index");
        WriteDisk(raw, 2);
        Qcow2Writer.Write(raw, image, image, index, CancellationToken.None);
        File.AppendAllText(image, "changed since");

        Qcow2Writer.Write(raw, dir.Combine("next.qcow2"), image, index, CancellationToken.None).Reused.ShouldBe(0);
    }

    [Fact]
    public void A_previous_image_changed_in_place_with_the_same_size_and_time_gives_no_cluster_it_no_longer_holds()
    {
        using var dir = new TempDir();
        var raw = dir.Combine("disk.raw");
        var image = dir.Combine("disk.qcow2");
        var index = dir.Combine("index");
        WriteDisk(raw, 3);
        Qcow2Writer.Write(raw, image, image, index, CancellationToken.None);

        // Overwrite part of the packed compressed data (from cluster 1 of the file on), keeping size and time.
        var time = File.GetLastWriteTimeUtc(image);
        using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = Cluster + 100;
            f.Write(Enumerable.Repeat((byte)0x5A, 1000).ToArray());
        }

        File.SetLastWriteTimeUtc(image, time);

        var next = dir.Combine("next.qcow2");
        var result = Qcow2Writer.Write(raw, next, image, index, CancellationToken.None);

        result.Rejected.ShouldBeGreaterThan(0);
        result.Reused.ShouldBeLessThan(28);
        ShouldMatchRaw(next, raw);
    }
}
