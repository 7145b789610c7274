using Samsa.Storage;

namespace Samsa.Broker.Replication;

/// <summary>
/// A partition this node hosts: its log, its role (leader or follower, from the metadata image), and the high watermark.
/// Invariants: the high watermark only moves forward while this node leads and never passes what is durable on every
/// replica of the (maximal) ISR: the leader's own flushed offset under group commit (its log end offset with an
/// interval flush policy, durability traded for latency) and each ISR follower's fetch offset, which a follower only
/// reports after fsyncing what it fetched. So a consumer never reads a record that a crash of ISR members could take back.
/// Replication state (role, ISR, followers' progress) is guarded by one lock held for short in-memory sections; see
/// Partition.Replication.cs.
/// </summary>
public sealed partial class Partition(string topic, Guid topicId, int index, PartitionLog log, bool flushOnAck)
{
    private readonly object _hwLock = new();
    private TaskCompletionSource _dataArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Topic { get; } = topic;
    public Guid TopicId { get; } = topicId;
    public int Index { get; } = index;
    public PartitionLog Log { get; } = log;

    /// <summary>The leader epoch this node knows (as leader: the one it stamps into appended batches).</summary>
    public int LeaderEpoch { get; set; }

    /// <summary>Completes the next time the high watermark advances (or the partition changes role or goes away).</summary>
    public Task DataArrived => Volatile.Read(ref _dataArrived).Task;

    public long HighWatermark => Log.HighWatermark;

    public void AdvanceHighWatermark()
    {
        // Appends made straight on the log (coordinator records, transaction markers) reach followers' long polls here.
        WakeFollowerFetchesIfGrown();
        TaskCompletionSource? toComplete = null;
        lock (_hwLock)
        {
            long candidate = HighWatermarkCandidate();
            if (candidate > Log.HighWatermark)
            {
                Log.HighWatermark = candidate;
                toComplete = _dataArrived;
                _dataArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        toComplete?.TrySetResult();
    }

    /// <summary>Wakes fetchers and producers waiting on this partition (deletion, leadership change).</summary>
    public void WakeWaiters()
    {
        TaskCompletionSource old;
        lock (_hwLock)
        {
            old = _dataArrived;
            _dataArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        old.TrySetResult();
        WakeFollowerFetches();
    }
}
