using System.Diagnostics;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

public sealed class CompactionTests(ITestOutputHelper output) : LogTestBase
{
    [Fact]
    public void MillionUpdatesOverTenThousandKeys_LeaveTheLatestValuePerKey_AndTombstonesExpire()
    {
        const int Keys = 10_000, Batches = 1_000, PerBatch = 1_000, Deleted = 1_000;
        var config = Compaction.Config(segmentBytes: 1024 * 1024, deleteRetentionMs: 60_000);
        using var log = Open(config);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Batches; i++)
        {
            var compression = i % 4 == 3 ? CompressionType.Lz4 : CompressionType.None;
            var records = Enumerable.Range(0, PerBatch).Select(j => ((i * PerBatch + j) % Keys, (string?)$"value-{i}-{j}"));
            Assert.True(Append(log, Compaction.Batch(records, timestamp: 1_000 + i, compression: compression)).IsSuccess);
        }
        // Tombstones for the first 1000 keys.
        Assert.True(Append(log, Compaction.Batch(Enumerable.Range(0, Deleted).Select(k => (k, (string?)null)))).IsSuccess);
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        long before = Compaction.DirectoryBytes(PartitionDir);
        int segmentsBefore = log.SegmentCount;
        output.WriteLine($"appended {Batches * PerBatch + Deleted} records in {watch.ElapsedMilliseconds} ms: {before:N0} bytes in {segmentsBefore} segments, dirty ratio {log.DirtyRatio:F2}");

        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time);
        watch.Restart();
        var stats = cleaner.CleanOnce();
        Assert.NotNull(stats);
        long afterFirst = Compaction.DirectoryBytes(PartitionDir);
        output.WriteLine($"pass 1: {watch.ElapsedMilliseconds} ms, read {stats.BytesRead:N0} written {stats.BytesWritten:N0}, {stats.RecordsRetained}/{stats.RecordsRead} records kept, " +
                         $"{afterFirst:N0} bytes in {log.SegmentCount} segments ({stats.MegabytesPerSecond:F0} MB/s)");
        Assert.Equal(log.LogEndOffset - 1, stats.EndOffset - 1 + (log.LogEndOffset - stats.EndOffset));
        Assert.Equal(0, log.DirtyRatio);
        Assert.NotNull(log.LastCleanTime);

        // Latest value per live key; deleted keys still present as tombstones until delete.retention.ms passes.
        var records1 = Compaction.ReadAll(log);
        Assert.Equal(Keys, records1.Count);
        Assert.Equal(Keys, records1.Select(r => r.Key).Distinct().Count());
        var expected = Expected(Keys, Batches, PerBatch);
        foreach (var (_, key, value) in records1)
        {
            int k = int.Parse(key[4..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(k < Deleted ? null : expected[k], value);
        }
        Assert.Null(cleaner.CleanOnce());

        Time.Advance(TimeSpan.FromMilliseconds(config.DeleteRetentionMs + 1));
        watch.Restart();
        var stats2 = cleaner.CleanOnce();
        Assert.NotNull(stats2);
        var records2 = Compaction.ReadAll(log);
        long after = Compaction.DirectoryBytes(PartitionDir);
        output.WriteLine($"pass 2 (tombstones expired): {watch.ElapsedMilliseconds} ms, {after:N0} bytes in {log.SegmentCount} segments");
        output.WriteLine($"disk: before {before:N0} bytes, after {after:N0} bytes ({100.0 * after / before:F2}%)");
        Assert.Equal(Keys - Deleted, records2.Count);
        Assert.All(records2, r => Assert.NotNull(r.Value));
        Assert.DoesNotContain(records2, r => int.Parse(r.Key[4..], System.Globalization.CultureInfo.InvariantCulture) < Deleted);
        Assert.True(after < before / 50, $"{after} should be far below {before}");
        Assert.DoesNotContain(Directory.EnumerateFiles(PartitionDir), f => f.EndsWith(".cleaned", StringComparison.Ordinal) || f.EndsWith(".swap", StringComparison.Ordinal));

        // The reopened log reads the same.
        log.Close();
        using var reopened = Open(config);
        reopened.HighWatermark = reopened.LogEndOffset;
        Assert.Equal(records2, Compaction.ReadAll(reopened));
    }

    private static string[] Expected(int keys, int batches, int perBatch)
    {
        var latest = new string[keys];
        for (int i = 0; i < batches; i++)
            for (int j = 0; j < perBatch; j++)
                latest[(i * perBatch + j) % keys] = $"value-{i}-{j}";
        return latest;
    }

    [Fact]
    public void Tombstones_GetADeleteHorizon_InTheBatchHeader()
    {
        var config = Compaction.Config(deleteRetentionMs: 5_000);
        using var log = Open(config);
        Append(log, Compaction.Batch([(1, "a"), (2, "b")]));
        Append(log, Compaction.Batch([(1, null), (3, "c")]));
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time);
        Assert.NotNull(cleaner.CleanOnce());
        long now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        var read = log.Read(0, 1 << 20, log.HighWatermark, true);
        var reader = new RecordBatchReader(read.Records);
        var headers = new List<(short Attributes, long BaseTimestamp, long BaseOffset, long LastOffset)>();
        while (reader.TryReadNext(out var b)) headers.Add((b.Header.Attributes, b.Header.BaseTimestamp, b.BaseOffset, b.LastOffset));
        Assert.Equal(2, headers.Count);
        Assert.Equal(0, headers[0].Attributes & RecordBatchLayout.DeleteHorizonFlag);
        Assert.NotEqual(0, headers[1].Attributes & RecordBatchLayout.DeleteHorizonFlag);
        Assert.Equal(now + 5_000, headers[1].BaseTimestamp);
        Assert.Equal((2L, 3L), (headers[1].BaseOffset, headers[1].LastOffset));
        Assert.Equal([(1L, "key-2", (string?)"b"), (2L, "key-1", null), (3L, "key-3", "c")], Compaction.ReadAll(log));
        Assert.Equal(now + 5_000, log.LatestDeleteHorizonMs);

        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(cleaner.CleanOnce());
        Assert.Equal([(1L, "key-2", (string?)"b"), (3L, "key-3", "c")], Compaction.ReadAll(log));
    }

    [Fact]
    public void ActiveSegment_AndRecordsNewerThanMinCompactionLag_AreNotCleaned()
    {
        var config = Compaction.Config(segmentBytes: 1024) with { MinCompactionLagMs = 10_000 };
        using var log = Open(config);
        long now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 50; i++) Append(log, Compaction.Batch([(i % 3, $"v{i}")], timestamp: now));
        log.HighWatermark = log.LogEndOffset;
        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time);
        Assert.Null(cleaner.CleanOnce());
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.NotNull(cleaner.CleanOnce());
        var records = Compaction.ReadAll(log);
        // Everything in the active segment is still there; the closed ones hold at most one record per key.
        long activeBase = log.Segments[^1].BaseOffset;
        Assert.Equal(50 - activeBase, records.Count(r => r.Offset >= activeBase));
        Assert.True(records.Count(r => r.Offset < activeBase) <= 3);
        Assert.Equal(["v47", "v48", "v49"], records.GroupBy(r => r.Key).Select(g => g.Last().Value).Order());
    }

    [Fact]
    public void KeylessRecords_AreDropped_ControlBatchesKept()
    {
        using var log = Open(Compaction.Config());
        using (var b = new RecordBatchBuilder())
        {
            b.Append(1_000, (byte[]?)null, "no-key"u8.ToArray());
            b.Append(1_000, Compaction.Key(1), "x"u8.ToArray());
            Append(log, b.Build());
        }
        var marker = new EndTransactionMarker(ControlRecordType.Commit, 0).BuildBatch(7, 0, 1_000);
        Assert.True(log.AppendAsLeader(marker, 0, AppendOrigin.Coordinator).IsSuccess);
        Append(log, Compaction.Batch([(1, "y")]));
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time);
        Assert.NotNull(cleaner.CleanOnce());
        var read = log.Read(0, 1 << 20, log.HighWatermark, true);
        var reader = new RecordBatchReader(read.Records);
        var batches = new List<(long Base, bool Control, int Count)>();
        while (reader.TryReadNext(out var batch)) batches.Add((batch.BaseOffset, batch.IsControl, batch.RecordCount));
        Assert.Equal([(2L, true, 1), (3L, false, 1)], batches);
    }

    [Fact]
    public void SmallOffsetMap_CleansInSeveralPasses()
    {
        // 1 MiB of map holds ~39k keys: 100k distinct keys need several passes, each ending where its map ended.
        var config = Compaction.Config(segmentBytes: 256 * 1024, minDirtyRatio: 0.01);
        using var log = Open(config);
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < 100; i++)
                Append(log, Compaction.Batch(Enumerable.Range(i * 1000, 1000).Select(k => (k, (string?)$"r{round}"))));
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(dedupeBytes: 1024 * 1024), Time);
        int passes = cleaner.CleanUntilIdle();
        output.WriteLine($"{passes} passes");
        Assert.True(passes >= 3, $"{passes} passes");
        var records = Compaction.ReadAll(log);
        Assert.Equal(100_000, records.Count);
        Assert.All(records, r => Assert.Equal("r1", r.Value));
    }
}
