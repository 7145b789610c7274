using Samsa.Storage;

namespace Samsa.Broker.Replication;

/// <summary>
/// A partition this node hosts: its log, its leader epoch, and the high watermark.
/// Invariants: the high watermark only moves forward and never passes what is durable on every in-sync replica;
/// on a single node with group commit that is the log's flushed offset, so a consumer never reads a record that a
/// crash could take back. With an interval flush policy (durability traded for latency) it is the log end offset.
/// </summary>
public sealed class Partition(string topic, Guid topicId, int index, PartitionLog log, bool flushOnAck)
{
    private readonly object _hwLock = new();
    private TaskCompletionSource _dataArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Topic { get; } = topic;
    public Guid TopicId { get; } = topicId;
    public int Index { get; } = index;
    public PartitionLog Log { get; } = log;
    public int LeaderEpoch { get; set; }

    /// <summary>Completes the next time the high watermark advances (or the partition goes away).</summary>
    public Task DataArrived => Volatile.Read(ref _dataArrived).Task;

    public long HighWatermark => Log.HighWatermark;

    /// <summary>
    /// Appends client batches as leader and, for acks != 0 under group commit, waits until they are fsynced;
    /// then advances the high watermark. Batches were validated (CRC, magic, size) by the caller.
    /// </summary>
    public async ValueTask<AppendResult> AppendAsLeaderAsync(Memory<byte> batches, CancellationToken ct)
    {
        var result = Log.AppendAsLeader(batches, LeaderEpoch, AppendOrigin.Client);
        if (!result.IsSuccess) return result;
        if (flushOnAck)
        {
            BrokerMetrics.ProducePurgatory.Increment();
            try
            {
                // Not cancellable: if the producer disconnects, the batch is still in the log and must still become
                // visible once durable, or the high watermark would stall until the next append. The fsync is bounded.
                await Log.WaitForFlushAsync(result.LastOffset + 1, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                BrokerMetrics.ProducePurgatory.Decrement();
            }
        }
        AdvanceHighWatermark();
        return result;
    }

    public void AdvanceHighWatermark()
    {
        TaskCompletionSource? toComplete = null;
        lock (_hwLock)
        {
            long candidate = flushOnAck ? Log.FlushedOffset : Log.LogEndOffset;
            if (candidate > Log.HighWatermark)
            {
                Log.HighWatermark = candidate;
                toComplete = _dataArrived;
                _dataArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        toComplete?.TrySetResult();
    }

    /// <summary>Wakes fetchers waiting on this partition (deletion, leadership change).</summary>
    public void WakeWaiters()
    {
        TaskCompletionSource old;
        lock (_hwLock)
        {
            old = _dataArrived;
            _dataArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        old.TrySetResult();
    }
}
