namespace Samsa.Storage.Tests;

public sealed class RetentionTests : LogTestBase
{
    private static readonly LogConfig Small = LogConfig.Default with { SegmentBytes = 1000, FileDeleteDelayMs = 0 };

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public void Retention_by_time_deletes_old_segments_and_advances_log_start()
    {
        using var log = Open(Small with { RetentionMs = 60_000 });
        for (int i = 0; i < 20; i++) Append(log, TestBatches.Build(1, timestamp: Now - 120_000, valueSize: 200));
        int segments = log.SegmentCount;
        Time.Advance(TimeSpan.FromSeconds(1));
        for (int i = 0; i < 3; i++) Append(log, TestBatches.Build(1, timestamp: Now, valueSize: 200));
        Assert.True(segments > 3);

        log.HighWatermark = log.LogEndOffset; // everything durable (the broker moves the HW)
        int deleted = log.DeleteOldSegments();
        Assert.True(deleted > 0);
        Assert.Equal(log.Segments[0].BaseOffset, log.LogStartOffset);
        Assert.True(log.LogStartOffset > 0 && log.LogStartOffset <= 20);
        Assert.Equal(ReadError.OffsetOutOfRange, log.Read(0, 100, long.MaxValue, true).Error);
        Assert.Equal(ReadError.None, log.Read(log.LogStartOffset, 100, long.MaxValue, true).Error);
        Assert.Equal(log.SegmentCount, Directory.GetFiles(PartitionDir, "*.log").Length);
        Assert.Equal(0, log.DeleteOldSegments());
    }

    [Fact]
    public void Expired_active_segment_is_rolled_then_deleted()
    {
        using var log = Open(Small with { RetentionMs = 1000 });
        Append(log, TestBatches.Build(1, timestamp: Now));
        Time.Advance(TimeSpan.FromSeconds(5));
        log.HighWatermark = log.LogEndOffset; // everything durable (the broker moves the HW)
        Assert.Equal(1, log.DeleteOldSegments());
        Assert.Equal(1, log.LogStartOffset);
        Assert.Equal(1, log.SegmentCount);
        Assert.Equal(1, log.LogEndOffset);
    }

    [Fact]
    public void Retention_by_bytes_keeps_the_log_under_the_limit()
    {
        using var log = Open(Small with { RetentionBytes = 2500 });
        for (int i = 0; i < 30; i++) Append(log, TestBatches.Build(1, timestamp: Now, valueSize: 200));
        Assert.True(log.SizeInBytes > 2500);
        log.HighWatermark = log.LogEndOffset; // everything durable (the broker moves the HW)
        Assert.True(log.DeleteOldSegments() > 0);
        // Kafka's rule: delete whole oldest segments only while the rest still holds at least retention.bytes.
        Assert.True(log.SizeInBytes >= 2500, $"size {log.SizeInBytes}");
        Assert.True(log.SizeInBytes - log.Segments[0].Size < 2500, $"size {log.SizeInBytes}");
        Assert.Equal(log.Segments[0].BaseOffset, log.LogStartOffset);
    }

    [Fact]
    public void Deleted_segments_are_renamed_then_removed_after_the_delay()
    {
        using var log = Open(Small with { RetentionBytes = 0, FileDeleteDelayMs = 60_000 });
        for (int i = 0; i < 10; i++) Append(log, TestBatches.Build(1, timestamp: Now, valueSize: 200));
        log.HighWatermark = log.LogEndOffset; // everything durable (the broker moves the HW)
        int deleted = log.DeleteOldSegments();
        Assert.Equal(deleted, Directory.GetFiles(PartitionDir, "*.log.deleted").Length);
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(Directory.GetFiles(PartitionDir, "*.deleted"));
    }

    [Fact]
    public void Delete_records_before_advances_log_start_and_survives_reopen()
    {
        using (var log = Open(Small))
        {
            for (int i = 0; i < 20; i++) Append(log, TestBatches.Build(1, valueSize: 200));
            log.HighWatermark = log.LogEndOffset;
            Assert.Throws<ArgumentOutOfRangeException>(() => log.DeleteRecordsBefore(21));
            Assert.Equal(13, log.DeleteRecordsBefore(13));
            Assert.Equal(13, log.LogStartOffset);
            Assert.True(log.Segments[0].BaseOffset <= 13);
            Assert.True(log.Segments.Count == 1 || log.Segments[1].BaseOffset > 13);
            Assert.Equal(ReadError.OffsetOutOfRange, log.Read(12, 100, long.MaxValue, true).Error);
            Assert.Equal(ReadError.None, log.Read(13, 100, long.MaxValue, true).Error);
        }
        using var reopened = Open(Small);
        Assert.Equal(13, reopened.LogStartOffset);
        Assert.Equal(20, reopened.LogEndOffset);
    }

    [Fact]
    public void Truncate_removes_the_tail_and_producer_state_follows()
    {
        using var log = Open(Small);
        for (int i = 0; i < 20; i++)
            Append(log, TestBatches.Build(2, producerId: 7, producerEpoch: 0, baseSequence: i * 2, valueSize: 100));
        log.Truncate(21);
        Assert.Equal(20, log.LogEndOffset);
        Assert.Equal(log.SegmentCount, Directory.GetFiles(PartitionDir, "*.log").Length);
        var dup = Append(log, TestBatches.Build(2, producerId: 7, producerEpoch: 0, baseSequence: 18));
        Assert.True(dup.Duplicate);
        var next = Append(log, TestBatches.Build(2, producerId: 7, producerEpoch: 0, baseSequence: 20));
        Assert.Equal(AppendError.None, next.Error);
        Assert.Equal(20, next.BaseOffset);
    }

    [Fact]
    public void Log_config_parses_and_validates()
    {
        var c = LogConfig.Parse(new Dictionary<string, string?>
        {
            ["segment.bytes"] = "1048576",
            ["retention.ms"] = "-1",
            ["message.timestamp.type"] = "LogAppendTime",
            ["cleanup.policy"] = "compact,delete",
        });
        Assert.Equal(1048576, c.SegmentBytes);
        Assert.Equal(-1, c.RetentionMs);
        Assert.True(c.LogAppendTime);
        Assert.True(c.CleanupCompact && c.CleanupDelete);
        Assert.Equal(4096, c.IndexIntervalBytes);
        var e = Assert.Throws<ArgumentException>(() => LogConfig.Parse(new Dictionary<string, string?> { ["retention.bytes"] = "lots" }));
        Assert.Contains("retention.bytes", e.Message);
        Assert.Throws<ArgumentException>(() => LogConfig.Parse(new Dictionary<string, string?> { ["cleanup.policy"] = "forever" }));
    }
}
