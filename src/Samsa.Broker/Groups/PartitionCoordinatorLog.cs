using Samsa.Broker.Replication;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Broker.Groups;

/// <summary>
/// A coordinator shard's log on its __consumer_offsets partition: one uncompressed v2 batch per state change,
/// appended as leader (offsets assigned at once, under the shard lock) and awaited until fsynced under group commit.
/// </summary>
public sealed class PartitionCoordinatorLog(Partition partition, bool flushOnAck) : ICoordinatorLog
{
    private const int ReadChunkBytes = 1 << 20;

    public Task Append(IReadOnlyList<CoordinatorRecord> records, long timestampMs)
    {
        using var builder = new RecordBatchBuilder();
        foreach (var r in records) builder.Append(timestampMs, r.Key, r.Value);
        var result = partition.Log.AppendAsLeader(builder.Build(), partition.LeaderEpoch, AppendOrigin.Coordinator);
        if (!result.IsSuccess) return Task.FromException(new InvalidOperationException($"Append to {partition.Topic}-{partition.Index} failed: {result.Error}"));
        return WaitDurableAsync(result.LastOffset + 1);
    }

    private async Task WaitDurableAsync(long endOffset)
    {
        if (flushOnAck) await partition.Log.WaitForFlushAsync(endOffset).ConfigureAwait(false);
        partition.AdvanceHighWatermark();
    }

    public IEnumerable<CoordinatorRecord> ReadAll()
    {
        long offset = partition.Log.LogStartOffset;
        long end = partition.Log.LogEndOffset;
        while (offset < end)
        {
            var read = partition.Log.Read(offset, ReadChunkBytes, end, minOneBatch: true);
            if (read.Records.IsEmpty) yield break;
            var reader = new RecordBatchReader(read.Records);
            while (reader.TryReadNext(out var batch))
            {
                offset = batch.LastOffset + 1;
                if (batch.IsControl) continue;
                foreach (var record in batch.ReadRecords())
                {
                    if (record.Key is not { } key) continue;
                    yield return new CoordinatorRecord(key.ToArray(), record.Value?.ToArray());
                }
            }
        }
    }
}
