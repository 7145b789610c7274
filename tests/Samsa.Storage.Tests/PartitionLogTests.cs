namespace Samsa.Storage.Tests;

public sealed class PartitionLogTests : LogTestBase
{
    private static readonly LogConfig Small = LogConfig.Default with { SegmentBytes = 1024, IndexIntervalBytes = 128 };

    [Fact]
    public void Appends_get_contiguous_offsets_and_read_back_across_many_segments()
    {
        using var log = Open(Small);
        long expected = 0;
        for (int i = 0; i < 200; i++)
        {
            int count = 1 + i % 4;
            var r = Append(log, TestBatches.Build(count, timestamp: 1000 + i));
            Assert.Equal(AppendError.None, r.Error);
            Assert.Equal(expected, r.BaseOffset);
            Assert.Equal(expected + count - 1, r.LastOffset);
            expected += count;
        }
        Assert.Equal(expected, log.LogEndOffset);
        Assert.True(log.SegmentCount > 10, $"segments: {log.SegmentCount}");
        for (long offset = 0; offset < expected; offset++)
        {
            var read = log.Read(offset, 300, long.MaxValue, minOneBatch: true);
            Assert.Equal(ReadError.None, read.Error);
            var batches = TestBatches.Parse(read.Records.Span);
            Assert.NotEmpty(batches);
            Assert.True(batches[0].Base <= offset && batches[0].Last >= offset, $"offset {offset}: got {batches[0]}");
            for (int i = 1; i < batches.Count; i++) Assert.Equal(batches[i - 1].Last + 1, batches[i].Base);
        }
    }

    [Fact]
    public void Read_respects_max_bytes_max_offset_and_min_one_batch()
    {
        using var log = Open();
        for (int i = 0; i < 10; i++) Append(log, TestBatches.Build(2, valueSize: 100));
        int batchSize = TestBatches.Build(2, valueSize: 100).Length;

        var limited = log.Read(0, batchSize * 3 + 5, long.MaxValue, true);
        Assert.Equal(3, TestBatches.Parse(limited.Records.Span).Count);

        var tiny = log.Read(4, 10, long.MaxValue, minOneBatch: true);
        Assert.Equal([(4L, 5L, batchSize)], TestBatches.Parse(tiny.Records.Span));
        Assert.True(log.Read(4, 10, long.MaxValue, minOneBatch: false).Records.IsEmpty);

        var bounded = log.Read(0, int.MaxValue, maxOffsetExclusive: 6, true);
        Assert.Equal(6, TestBatches.Parse(bounded.Records.Span).Sum(b => (int)(b.Last - b.Base + 1)));

        Assert.True(log.Read(20, 1000, long.MaxValue, true).Records.IsEmpty);
        Assert.Equal(ReadError.OffsetOutOfRange, log.Read(21, 1000, long.MaxValue, true).Error);
        Assert.Equal(ReadError.OffsetOutOfRange, log.Read(-1, 1000, long.MaxValue, true).Error);
    }

    [Fact]
    public void Pooled_read_returns_the_same_bytes_and_owns_them_until_disposed()
    {
        using var log = Open(Small);
        for (int i = 0; i < 40; i++) Append(log, TestBatches.Build(1 + i % 3, valueSize: 50));
        foreach (var (offset, maxBytes, maxOffset, minOne) in new[]
        {
            (0L, 300, long.MaxValue, true), (5L, 10, long.MaxValue, true), (5L, 10, long.MaxValue, false),
            (3L, int.MaxValue, 8L, true), (log.LogEndOffset, 1000, long.MaxValue, true), (log.LogEndOffset + 1, 1000, long.MaxValue, true),
        })
        {
            var expected = log.Read(offset, maxBytes, maxOffset, minOne);
            var pooled = log.ReadPooled(offset, maxBytes, maxOffset, minOne, out var buffer);
            Assert.Equal(expected.Error, pooled.Error);
            Assert.Equal(expected.Records.ToArray(), pooled.Records.ToArray());
            Assert.Equal(pooled.Records.IsEmpty, buffer is null);
            if (buffer is null) continue;
            Assert.True(buffer.Memory.Span.SequenceEqual(pooled.Records.Span));
            buffer.Dispose();
            buffer.Dispose(); // idempotent: the array goes back to the pool once
        }
    }

    [Fact]
    public void Index_lookup_finds_a_position_at_or_before_every_offset()
    {
        using var log = Open(LogConfig.Default with { IndexIntervalBytes = 100 });
        for (int i = 0; i < 100; i++) Append(log, TestBatches.Build(3, valueSize: 20));
        var segment = log.Segments[0];
        Assert.True(segment.OffsetIndex.EntryCount > 10);
        for (long offset = 0; offset < 300; offset++)
        {
            var (indexed, _) = segment.OffsetIndex.Lookup(offset);
            Assert.True(indexed <= offset);
            var found = segment.FindPosition(offset);
            Assert.NotNull(found);
            Assert.True(found.Value.Batch.BaseOffset <= offset && found.Value.Batch.LastOffset >= offset);
        }
    }

    [Fact]
    public void Reopen_keeps_everything()
    {
        long end;
        using (var log = Open(Small))
        {
            for (int i = 0; i < 50; i++) Append(log, TestBatches.Build(2, timestamp: 5000 + i));
            end = log.LogEndOffset;
        }
        Assert.True(File.Exists(Path.Combine(PartitionDir, ".kafka_cleanshutdown")));
        using var reopened = Open(Small);
        Assert.Equal(end, reopened.LogEndOffset);
        Assert.Equal(0, reopened.LogStartOffset);
        Assert.Equal(end, reopened.FlushedOffset);
        var all = new List<(long, long, int)>();
        long next = 0;
        while (next < end)
        {
            var batches = TestBatches.Parse(reopened.Read(next, 4096, long.MaxValue, true).Records.Span);
            all.AddRange(batches);
            next = batches[^1].Last + 1;
        }
        Assert.Equal(50, all.Count);
        var r = Append(reopened, TestBatches.Build(1));
        Assert.Equal(end, r.BaseOffset);
    }

    [Fact]
    public void Rolls_by_bytes_and_by_time()
    {
        using var log = Open(LogConfig.Default with { SegmentBytes = 2000, SegmentMs = 60_000 });
        var batch = TestBatches.Build(1, valueSize: 500);
        Append(log, batch);
        Append(log, batch);
        Append(log, batch);
        Assert.Equal(1, log.SegmentCount);
        Append(log, batch);
        Assert.Equal(2, log.SegmentCount);
        Assert.Equal(3, log.Segments[1].BaseOffset);
        Assert.True(File.Exists(Path.Combine(PartitionDir, "00000000000000000003.log")));

        Time.Advance(TimeSpan.FromSeconds(59));
        Append(log, TestBatches.Build(1));
        Assert.Equal(2, log.SegmentCount);
        Time.Advance(TimeSpan.FromSeconds(2));
        Append(log, TestBatches.Build(1));
        Assert.Equal(3, log.SegmentCount);
    }

    [Fact]
    public void Oversized_and_malformed_batches_are_rejected()
    {
        using var log = Open(LogConfig.Default with { MaxMessageBytes = 200 });
        Assert.Equal(AppendError.MessageTooLarge, Append(log, TestBatches.Build(1, valueSize: 300)).Error);
        var bad = TestBatches.Build(1);
        bad[16] = 1;
        Assert.Equal(AppendError.CorruptMessage, Append(log, bad).Error);
        Assert.Equal(AppendError.CorruptMessage, Append(log, new byte[10]).Error);
        Assert.Equal(0, log.LogEndOffset);
    }

    [Fact]
    public void Log_append_time_patches_timestamps_and_keeps_crc_valid()
    {
        using var log = Open(LogConfig.Default with { LogAppendTime = true });
        var r = Append(log, TestBatches.Build(3, timestamp: 5));
        long now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal(now, r.LogAppendTime);
        var read = log.Read(0, 1000, long.MaxValue, true).Records;
        var h = new Samsa.Protocol.Records.RecordBatchHeader(read.Span);
        Assert.True(h.IsCrcValid);
        Assert.Equal(now, h.MaxTimestamp);
        Assert.Equal(Samsa.Protocol.Records.TimestampType.LogAppendTime, h.TimestampType);
    }

    [Fact]
    public void Leader_epoch_is_patched_and_checkpointed()
    {
        using (var log = Open())
        {
            Append(log, TestBatches.Build(2), epoch: 3);
            Append(log, TestBatches.Build(2), epoch: 3);
            Append(log, TestBatches.Build(2), epoch: 5);
            Assert.Equal([(3, 0L), (5, 4L)], log.LeaderEpochs);
            Assert.Equal((3, 4L), log.EndOffsetForEpoch(4));
            var h = new Samsa.Protocol.Records.RecordBatchHeader(log.Read(4, 1000, long.MaxValue, true).Records.Span);
            Assert.Equal(5, h.PartitionLeaderEpoch);
        }
        Assert.Equal("0\n2\n3 0\n5 4\n", File.ReadAllText(Path.Combine(PartitionDir, "leader-epoch-checkpoint")));
    }

    [Fact]
    public void Offset_for_timestamp_and_max_timestamp()
    {
        using var log = Open(Small);
        for (int i = 0; i < 40; i++) Append(log, TestBatches.Build(2, timestamp: 1000 + i * 10));
        Assert.Equal(0, log.OffsetForTimestamp(0));
        Assert.Equal(0, log.OffsetForTimestamp(1000));
        Assert.Equal(2, log.OffsetForTimestamp(1001));
        Assert.Equal(40, log.OffsetForTimestamp(1200));
        Assert.Equal(78, log.OffsetForTimestamp(1390));
        Assert.Null(log.OffsetForTimestamp(1391));
        Assert.Equal((79L, 1390L), log.MaxTimestamp());
    }
}
