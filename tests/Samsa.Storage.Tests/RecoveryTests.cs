using Microsoft.Extensions.Logging;

namespace Samsa.Storage.Tests;

public sealed class RecoveryTests : LogTestBase
{
    private static readonly LogConfig Small = LogConfig.Default with { SegmentBytes = 4096, IndexIntervalBytes = 256 };

    /// <summary>Appends batches and returns (base, last, end position in the last segment file) of each.</summary>
    private List<(long Base, long Last)> Fill(PartitionLog log, int batches, int seed)
    {
        var random = new Random(seed);
        var result = new List<(long, long)>();
        for (int i = 0; i < batches; i++)
        {
            var r = Append(log, TestBatches.Build(1 + random.Next(5), timestamp: 1000 + i, valueSize: random.Next(1, 60)));
            result.Add((r.BaseOffset, r.LastOffset));
        }
        return result;
    }

    private static void Crash(PartitionLog log)
    {
        // Simulates a crash: files closed without the clean-shutdown marker.
        log.Flush();
        foreach (var s in log.Segments) s.Dispose();
    }

    private void AssertIntactUpTo(PartitionLog log, List<(long Base, long Last)> batches)
    {
        int kept = batches.FindLastIndex(b => b.Last < log.LogEndOffset) + 1;
        Assert.True(kept == 0 ? log.LogEndOffset == batches[0].Base || log.LogEndOffset == log.Segments[^1].BaseOffset : log.LogEndOffset == batches[kept - 1].Last + 1,
            $"log end {log.LogEndOffset} is not at a batch boundary");
        long next = log.LogStartOffset;
        int index = batches.FindIndex(b => b.Base >= next);
        while (next < log.LogEndOffset)
        {
            var read = TestBatches.Parse(log.Read(next, 100_000, long.MaxValue, true).Records.Span);
            foreach (var b in read)
            {
                Assert.Equal((batches[index].Base, batches[index].Last), (b.Base, b.Last));
                index++;
            }
            next = read[^1].Last + 1;
        }
        var append = Append(log, TestBatches.Build(1));
        Assert.Equal(log.LogEndOffset - 1, append.BaseOffset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Truncated_tail_is_cut_to_the_last_whole_batch(int seed)
    {
        var log = Open(Small);
        var batches = Fill(log, 120, seed);
        Crash(log);
        var last = Directory.GetFiles(PartitionDir, "*.log").Order().Last();
        long length = new FileInfo(last).Length;
        long cut = new Random(seed).NextInt64(1, length);
        using (var fs = new FileStream(last, FileMode.Open)) fs.SetLength(cut);

        using var reopened = Open(Small);
        AssertIntactUpTo(reopened, batches);
        Assert.True(reopened.LogEndOffset <= batches[^1].Last + 2);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void Flipped_bytes_in_the_tail_truncate_from_the_corrupt_batch(int seed)
    {
        var log = Open(Small);
        var batches = Fill(log, 120, seed);
        long endBefore = log.LogEndOffset;
        Crash(log);
        var last = Directory.GetFiles(PartitionDir, "*.log").Order().Last();
        var bytes = File.ReadAllBytes(last);
        var random = new Random(seed);
        int at = random.Next(bytes.Length / 2, bytes.Length);
        bytes[at] ^= (byte)(1 + random.Next(255));
        File.WriteAllBytes(last, bytes);

        using var reopened = Open(Small);
        Assert.True(reopened.LogEndOffset < endBefore);
        AssertIntactUpTo(reopened, batches);
        Assert.Contains(Logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Truncated"));
    }

    [Fact]
    public void Garbage_appended_after_the_last_batch_is_removed_and_logged()
    {
        var log = Open(Small);
        var batches = Fill(log, 10, 7);
        long end = log.LogEndOffset;
        Crash(log);
        var last = Directory.GetFiles(PartitionDir, "*.log").Order().Last();
        long before = new FileInfo(last).Length;
        using (var fs = new FileStream(last, FileMode.Append)) fs.Write(new byte[100]);

        using var reopened = Open(Small);
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.Equal(before, new FileInfo(last).Length);
        Assert.Contains(Logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Truncated 100 bytes"));
        AssertIntactUpTo(reopened, batches);
    }

    [Fact]
    public void Corruption_in_an_older_segment_after_unclean_shutdown_drops_later_segments()
    {
        var log = Open(Small);
        var batches = Fill(log, 200, 9);
        Assert.True(log.SegmentCount > 3);
        Crash(log);
        var files = Directory.GetFiles(PartitionDir, "*.log").Order().ToList();
        var second = files[1];
        var bytes = File.ReadAllBytes(second);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(second, bytes);

        using var reopened = Open(Small);
        Assert.Equal(2, reopened.SegmentCount);
        AssertIntactUpTo(reopened, batches);
    }

    [Fact]
    public void Missing_and_corrupt_indexes_are_rebuilt()
    {
        long end;
        using (var log = Open(Small))
        {
            Fill(log, 200, 3);
            end = log.LogEndOffset;
        }
        var indexes = Directory.GetFiles(PartitionDir, "*.index").Order().ToList();
        File.Delete(indexes[0]);
        File.Delete(Path.ChangeExtension(indexes[0], ".timeindex"));
        File.WriteAllBytes(indexes[1], [1, 2, 3]);

        using var reopened = Open(Small);
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.True(File.Exists(indexes[0]));
        Assert.True(reopened.Segments[0].OffsetIndex.EntryCount > 0);
        Assert.True(reopened.Segments[1].OffsetIndex.IsSane(reopened.Segments[1].Size));
        for (long o = 0; o < end; o += 7)
        {
            var b = TestBatches.Parse(reopened.Read(o, 1, long.MaxValue, true).Records.Span)[0];
            Assert.InRange(o, b.Base, b.Last);
        }
    }

    [Fact]
    public void Leftover_deleted_and_tmp_files_are_removed()
    {
        using (var log = Open()) Append(log, TestBatches.Build(1));
        File.WriteAllText(Path.Combine(PartitionDir, "00000000000000000000.log.deleted"), "x");
        File.WriteAllText(Path.Combine(PartitionDir, "00000000000000000000.snapshot.tmp"), "x");
        using var reopened = Open();
        Assert.Empty(Directory.GetFiles(PartitionDir, "*.deleted"));
        Assert.Empty(Directory.GetFiles(PartitionDir, "*.tmp"));
        Assert.Equal(1, reopened.LogEndOffset);
    }
}
