using Samsa.Broker.Replication;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Broker.Groups;

/// <summary>
/// A coordinator shard's log on its partition (__consumer_offsets, __transaction_state): one uncompressed v2 batch per state change,
/// appended as leader (offsets assigned at once, under the shard lock) and awaited like a produce with acks=all: fsynced here
/// (group commit) and on every in-sync replica, so the follower that becomes leader when this node dies, and loads the
/// coordinator from its copy, has every commit that was acknowledged (Kafka's coordinator runtime appends with acks=-1).
/// A replication failure surfaces as <see cref="CoordinatorReplicationException"/> (the client retries, as with
/// COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR in Kafka); the in-memory state is only updated after success.
/// </summary>
public sealed class PartitionCoordinatorLog(Partition partition, bool flushOnAck) : ICoordinatorLog
{
    private const int ReadChunkBytes = 1 << 20;

    /// <summary>How long an append waits for the ISR (offsets.commit.timeout.ms's default).</summary>
    private static readonly TimeSpan ReplicationTimeout = TimeSpan.FromSeconds(5);

    public Task Append(IReadOnlyList<CoordinatorRecord> records, long timestampMs) =>
        Append(records, RecordBatchLayout.NoProducerId, RecordBatchLayout.NoProducerEpoch, timestampMs);

    public Task AppendTransactional(IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch, long timestampMs) =>
        Append(records, producerId, producerEpoch, timestampMs);

    private Task Append(IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch, long timestampMs)
    {
        using var builder = new RecordBatchBuilder
        {
            ProducerId = producerId, ProducerEpoch = producerEpoch, IsTransactional = producerId >= 0,
        };
        foreach (var r in records) builder.Append(timestampMs, r.Key, r.Value);
        var result = partition.Log.AppendAsLeader(builder.Build(), partition.LeaderEpoch, AppendOrigin.Coordinator);
        if (!result.IsSuccess) return Task.FromException(new CoordinatorAppendException($"{partition.Topic}-{partition.Index}", result.Error));
        partition.WakeFollowerFetches();
        return WaitDurableAsync(result.LastOffset + 1);
    }

    private async Task WaitDurableAsync(long endOffset)
    {
        if (flushOnAck) await partition.Log.WaitForFlushAsync(endOffset).ConfigureAwait(false);
        partition.AdvanceHighWatermark();
        var error = await partition.WaitForIsrAsync(endOffset, ReplicationTimeout, CancellationToken.None).ConfigureAwait(false);
        if (error != Samsa.Protocol.ErrorCode.None)
            throw new CoordinatorReplicationException($"{partition.Topic}-{partition.Index}", error);
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
                if (batch.IsControl)
                {
                    if (EndTransactionMarker.TryParse(batch, out var marker))
                        yield return new CoordinatorRecord([], null) { ProducerId = batch.Header.ProducerId, Marker = marker.IsCommit };
                    continue;
                }
                long producerId = batch.Header.IsTransactional ? batch.Header.ProducerId : -1;
                foreach (var record in batch.ReadRecords())
                {
                    if (record.Key is not { } key) continue;
                    yield return new CoordinatorRecord(key.ToArray(), record.Value?.ToArray()) { ProducerId = producerId };
                }
            }
        }
    }
}

/// <summary>An append to a coordinator partition was refused by the log (e.g. a fenced producer epoch).</summary>
public sealed class CoordinatorAppendException(string partition, AppendError error)
    : InvalidOperationException($"Append to {partition} failed: {error}")
{
    public AppendError Error { get; } = error;
}

/// <summary>An append to a coordinator partition did not reach the ISR (leadership moved, the ISR shrank, or a timeout).</summary>
public sealed class CoordinatorReplicationException(string partition, Samsa.Protocol.ErrorCode error)
    : InvalidOperationException($"Append to {partition} was not replicated: {error}")
{
    public Samsa.Protocol.ErrorCode Error { get; } = error;
}
