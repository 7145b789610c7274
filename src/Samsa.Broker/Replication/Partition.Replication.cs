using System.Collections.Immutable;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Storage;

namespace Samsa.Broker.Replication;

/// <summary>Progress of one follower as the leader sees it (Kafka's Replica state on the leader).</summary>
internal sealed class FollowerProgress
{
    /// <summary>The follower's last fetch offset: its log end offset, fsynced before it fetched. -1 until it fetches.</summary>
    public long LogEndOffset = -1;
    public long LastCaughtUpTimeMs;
    public long LastFetchTimeMs;
    public long LastFetchLeaderLogEndOffset;
}

public sealed partial class Partition
{
    private readonly object _stateLock = new();
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<int, FollowerProgress> _followers = [];
    private int[]? _pendingIsr;
    private long _noProposalBeforeMs;
    private int _leaderId = -1;

    /// <summary>This node's id; the partition leads when the image names it leader.</summary>
    public int LocalBrokerId { get; init; } = -1;

    public int LeaderId => Volatile.Read(ref _leaderId);
    public bool IsLeader => LocalBrokerId >= 0 && LeaderId == LocalBrokerId;
    public int PartitionEpoch { get; private set; }
    public ImmutableArray<int> Replicas { get; private set; } = [];

    /// <summary>The committed ISR (from the metadata image). acks=all counts it against min.insync.replicas.</summary>
    public ImmutableArray<int> Isr { get; private set; } = [];

    /// <summary>The log end offset when this node became leader in the current epoch; a follower joins the ISR only past it.</summary>
    public long LeaderEpochStartOffset { get; private set; }

    /// <summary>An ISR change sent to the controller and not yet seen in the image (Kafka's PendingExpand/ShrinkIsr).</summary>
    public int[]? PendingIsr
    {
        get { lock (_stateLock) return _pendingIsr; }
    }

    /// <summary>
    /// The ISR the high watermark honours: the committed one plus replicas a pending change adds. During a shrink the
    /// removed replicas still count until the controller commits it (Kafka's maximal ISR), so the HW never runs ahead
    /// of a replica that the controller might still consider in sync.
    /// </summary>
    private IEnumerable<int> MaximalIsr => _pendingIsr is { } pending ? Isr.Union(pending) : Isr;

    /// <summary>Completes the next time the log end offset grows (follower long polls), or on a role change.</summary>
    internal Task Appended => Volatile.Read(ref _appended).Task;

    private long _signalledEnd = -1;

    internal void WakeFollowerFetches()
    {
        Volatile.Write(ref _signalledEnd, Log.LogEndOffset);
        var old = Interlocked.Exchange(ref _appended, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        old.TrySetResult();
    }

    private void WakeFollowerFetchesIfGrown()
    {
        if (Log.LogEndOffset > Volatile.Read(ref _signalledEnd)) WakeFollowerFetches();
    }

    /// <summary>Leader: min(own durable offset, fetch offsets of the other maximal-ISR members). Follower: no change.</summary>
    private long HighWatermarkCandidate()
    {
        long candidate = flushOnAck ? Log.FlushedOffset : Log.LogEndOffset;
        lock (_stateLock)
        {
            if (!IsLeader) return long.MinValue;
            foreach (int id in MaximalIsr)
            {
                if (id == LocalBrokerId) continue;
                long followerEnd = _followers.TryGetValue(id, out var f) ? f.LogEndOffset : -1;
                candidate = Math.Min(candidate, followerEnd);
            }
        }
        return candidate;
    }

    private AppendResult NotAttempted => new(AppendError.None, -1, -1, -1, Log.LogStartOffset, false, 0);

    /// <summary>
    /// Appends client batches as leader. acks=0/1: answered once the local append is durable (group commit). acks=all
    /// (-1): refused with NOT_ENOUGH_REPLICAS before appending when the ISR is smaller than min.insync.replicas;
    /// otherwise answered when the high watermark covers the batches — every ISR member has them on disk — or with
    /// REQUEST_TIMED_OUT after <paramref name="timeout"/>, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below
    /// the minimum meanwhile, NOT_LEADER_OR_FOLLOWER when leadership moved (Kafka's DelayedProduce).
    /// <paramref name="origin"/> Coordinator: transaction markers (epoch checked, no sequence).
    /// </summary>
    public async ValueTask<(AppendResult Result, ErrorCode Error)> AppendRecordsAsync(
        Memory<byte> batches, short requiredAcks, TimeSpan timeout, CancellationToken ct, AppendOrigin origin = AppendOrigin.Client)
    {
        AppendResult result;
        lock (_stateLock)
        {
            // Held across the append so a role change cannot slip between the check and the epoch stamped into the batch.
            if (!IsLeader) return (NotAttempted, ErrorCode.NotLeaderOrFollower);
            if (requiredAcks == -1 && Isr.Length < Log.Config.MinInSyncReplicas)
                return (NotAttempted, ErrorCode.NotEnoughReplicas);
            result = Log.AppendAsLeader(batches, LeaderEpoch, origin);
        }
        if (!result.IsSuccess) return (result, ErrorCode.None);
        if (!result.Duplicate) WakeFollowerFetches();
        if (flushOnAck && requiredAcks != 0)
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
        if (requiredAcks != -1) return (result, ErrorCode.None);
        return (result, await WaitForIsrAsync(result.LastOffset + 1, timeout, ct).ConfigureAwait(false));
    }

    /// <summary>Waits until the high watermark reaches <paramref name="requiredOffset"/> (Kafka's checkEnoughReplicasReachOffset).</summary>
    internal async ValueTask<ErrorCode> WaitForIsrAsync(long requiredOffset, TimeSpan timeout, CancellationToken ct)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var arrived = DataArrived; // before the checks, so an advance in between still wakes us
            if (!IsLeader) return ErrorCode.NotLeaderOrFollower;
            if (HighWatermark >= requiredOffset)
                return Isr.Length < Log.Config.MinInSyncReplicas ? ErrorCode.NotEnoughReplicasAfterAppend : ErrorCode.None;
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return ErrorCode.RequestTimedOut;
            try
            {
                await arrived.WaitAsync(TimeSpan.FromMilliseconds(remaining), ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>
    /// The image names this node leader (a new leader epoch, or the same one with a changed ISR). A new epoch starts at
    /// the log end (recorded in the epoch cache so followers can find where the previous one ended), followers' progress
    /// is reset (in-sync followers count as caught up now, as Kafka), and the high watermark stays where it was: it
    /// only advances as the ISR confirms. With this node the only replica, everything in the log is durable.
    /// </summary>
    internal void ApplyLeader(PartitionImage image, long nowMs)
    {
        bool newEpoch;
        lock (_stateLock)
        {
            newEpoch = !IsLeader || image.LeaderEpoch != LeaderEpoch;
            if (!newEpoch && image.PartitionEpoch < PartitionEpoch) return; // an older image
            LeaderEpoch = image.LeaderEpoch;
            PartitionEpoch = image.PartitionEpoch;
            Replicas = image.Replicas;
            Isr = image.Isr;
            _pendingIsr = null;
            if (newEpoch)
            {
                Log.AssignEpochStartOffset(image.LeaderEpoch, Log.LogEndOffset);
                LeaderEpochStartOffset = Log.LogEndOffset;
                var followers = new Dictionary<int, FollowerProgress>();
                foreach (int id in image.Replicas.Where(r => r != LocalBrokerId))
                    followers[id] = new FollowerProgress
                    {
                        LastCaughtUpTimeMs = image.Isr.Contains(id) ? nowMs : 0,
                        LastFetchLeaderLogEndOffset = Log.LogEndOffset,
                    };
                _followers = followers;
                if (image.Replicas.Length == 1) Log.HighWatermark = Log.LogEndOffset;
            }
            else
            {
                foreach (int id in image.Replicas.Where(r => r != LocalBrokerId && !_followers.ContainsKey(r)))
                    _followers[id] = new FollowerProgress();
            }
            Volatile.Write(ref _leaderId, image.Leader);
        }
        AdvanceHighWatermark();
        if (newEpoch) WakeWaiters();
    }

    /// <summary>
    /// The image names another node leader (or none). Clients are refused from now on, waiting producers are woken
    /// (they answer NOT_LEADER_OR_FOLLOWER); the replica fetcher takes over the log. Returns whether the leader or
    /// leader epoch changed (the fetcher then truncates before fetching).
    /// </summary>
    internal bool ApplyFollower(PartitionImage image)
    {
        bool changed;
        lock (_stateLock)
        {
            changed = IsLeader || image.Leader != LeaderId || image.LeaderEpoch != LeaderEpoch;
            if (!changed && image.PartitionEpoch < PartitionEpoch) return false;
            LeaderEpoch = image.LeaderEpoch;
            PartitionEpoch = image.PartitionEpoch;
            Replicas = image.Replicas;
            Isr = image.Isr;
            _pendingIsr = null;
            _followers = [];
            Volatile.Write(ref _leaderId, image.Leader);
        }
        if (changed) WakeWaiters();
        return changed;
    }

    /// <summary>
    /// Leader: records a follower's fetch at <paramref name="fetchOffset"/> (its durable log end) and advances the high
    /// watermark. Kafka's rule for "caught up": the fetch reached the leader's log end, or reached the log end the leader
    /// had at the follower's previous fetch (then it was caught up as of that fetch). Returns the ISR to propose when
    /// the follower is out of the ISR and now in sync (at or past the high watermark and the epoch start), else null.
    /// </summary>
    internal int[]? RecordFollowerFetch(int replicaId, long fetchOffset, long nowMs)
    {
        int[]? expand = null;
        lock (_stateLock)
        {
            if (!IsLeader || !_followers.TryGetValue(replicaId, out var f)) return null;
            long leaderEnd = Log.LogEndOffset;
            if (fetchOffset >= leaderEnd) f.LastCaughtUpTimeMs = Math.Max(f.LastCaughtUpTimeMs, nowMs);
            else if (fetchOffset >= f.LastFetchLeaderLogEndOffset) f.LastCaughtUpTimeMs = Math.Max(f.LastCaughtUpTimeMs, f.LastFetchTimeMs);
            f.LogEndOffset = fetchOffset;
            f.LastFetchLeaderLogEndOffset = leaderEnd;
            f.LastFetchTimeMs = nowMs;
            if (_pendingIsr is null && nowMs >= _noProposalBeforeMs && !Isr.Contains(replicaId)
                && fetchOffset >= HighWatermark && fetchOffset >= LeaderEpochStartOffset)
                expand = _pendingIsr = [.. Isr, replicaId];
        }
        AdvanceHighWatermark();
        return expand;
    }

    /// <summary>
    /// Leader: the ISR without followers that have not caught up for <paramref name="maxLagMs"/> (replica.lag.time.max.ms),
    /// marked pending; null when nothing is to be removed or a change is already in flight (Kafka's maybeShrinkIsr).
    /// </summary>
    internal int[]? ProposeShrink(long nowMs, long maxLagMs)
    {
        lock (_stateLock)
        {
            if (!IsLeader || _pendingIsr is not null || nowMs < _noProposalBeforeMs) return null;
            long leaderEnd = Log.LogEndOffset;
            var outOfSync = Isr.Where(id => id != LocalBrokerId && _followers.TryGetValue(id, out var f)
                                            && f.LogEndOffset != leaderEnd && nowMs - f.LastCaughtUpTimeMs > maxLagMs).ToList();
            if (outOfSync.Count == 0) return null;
            return _pendingIsr = [.. Isr.Except(outOfSync)];
        }
    }

    /// <summary>
    /// The proposed change is settled or failed (fenced, stale partition epoch, ineligible replica, controller
    /// unreachable): drop it; no new proposal before <paramref name="retryAtMs"/> (so a refused expansion is not re-sent
    /// on every fetch); the image or a later check retries.
    /// </summary>
    internal void ClearPendingIsr(int[] proposed, long retryAtMs = 0)
    {
        lock (_stateLock)
        {
            if (ReferenceEquals(_pendingIsr, proposed)) _pendingIsr = null;
            _noProposalBeforeMs = Math.Max(_noProposalBeforeMs, retryAtMs);
        }
        AdvanceHighWatermark();
    }

    /// <summary>Snapshot for the AlterPartition request: leader epoch and partition epoch the proposal is based on.</summary>
    internal (int LeaderEpoch, int PartitionEpoch) Epochs()
    {
        lock (_stateLock) return (LeaderEpoch, PartitionEpoch);
    }

    /// <summary>Followers' progress for diagnostics and tests: replica id → fetch offset (-1 unknown).</summary>
    internal IReadOnlyDictionary<int, long> FollowerOffsets()
    {
        lock (_stateLock) return _followers.ToDictionary(kv => kv.Key, kv => kv.Value.LogEndOffset);
    }

    /// <summary>Follower: the leader's high watermark from a fetch response, capped by what this replica holds.</summary>
    internal void UpdateFollowerHighWatermark(long leaderHighWatermark)
    {
        if (IsLeader) return;
        long hw = Math.Min(leaderHighWatermark, flushOnAck ? Log.FlushedOffset : Log.LogEndOffset);
        if (hw > Log.HighWatermark) Log.HighWatermark = hw;
    }
}
