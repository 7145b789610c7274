using System.Text;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>Keyed batches and whole-log reads for compaction tests.</summary>
internal static class Compaction
{
    public static LogConfig Config(int segmentBytes = 64 * 1024, long deleteRetentionMs = 1_000, double minDirtyRatio = 0.5) =>
        LogConfig.Default with
        {
            SegmentBytes = segmentBytes,
            CleanupCompact = true,
            CleanupDelete = false,
            DeleteRetentionMs = deleteRetentionMs,
            MinCleanableDirtyRatio = minDirtyRatio,
            FileDeleteDelayMs = 0,
        };

    public static byte[] Key(int k) => Encoding.UTF8.GetBytes("key-" + k);

    /// <summary>A batch of (key, value) records; a null value is a tombstone.</summary>
    public static byte[] Batch(IEnumerable<(int Key, string? Value)> records, long timestamp = 1_000,
        CompressionType compression = CompressionType.None, long producerId = -1, short epoch = -1, int baseSequence = -1)
    {
        using var b = new RecordBatchBuilder(compression)
        {
            ProducerId = producerId,
            ProducerEpoch = epoch,
            BaseSequence = baseSequence,
        };
        foreach (var (key, value) in records)
            b.Append(timestamp, Key(key), value is null ? null : Encoding.UTF8.GetBytes(value));
        return b.Build();
    }

    public static CleanerConfig CleanerConfig(long dedupeBytes = 8 * 1024 * 1024) => new() { DedupeBufferSize = dedupeBytes, Threads = 1 };

    /// <summary>Every record from the log start to the high watermark, in log order, checking offsets strictly increase.</summary>
    public static List<(long Offset, string Key, string? Value)> ReadAll(PartitionLog log, long? upTo = null)
    {
        var result = new List<(long, string, string?)>();
        long end = upTo ?? log.HighWatermark;
        long offset = log.LogStartOffset;
        long last = -1;
        while (offset < end)
        {
            var read = log.Read(offset, 1024 * 1024, end, minOneBatch: true);
            Assert.Equal(ReadError.None, read.Error);
            if (read.Records.IsEmpty) break;
            var reader = new RecordBatchReader(read.Records);
            while (reader.TryReadNext(out var batch))
            {
                Assert.True(batch.Header.IsCrcValid);
                foreach (var r in batch.ReadRecords())
                {
                    long o = batch.BaseOffset + r.OffsetDelta;
                    if (o < offset) continue;
                    Assert.True(o > last, $"offset {o} after {last}");
                    last = o;
                    result.Add((o, Encoding.UTF8.GetString(r.Key!.Value.Span), r.Value is { } v ? Encoding.UTF8.GetString(v.Span) : null));
                }
                offset = batch.LastOffset + 1;
            }
        }
        return result;
    }

    public static long DirectoryBytes(string dir) =>
        Directory.EnumerateFiles(dir).Where(f => f.EndsWith(".log", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
}
