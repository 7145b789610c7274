using Microsoft.Extensions.Logging;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Replication;

public sealed partial class ReplicaManager
{
    private ReplicaFetcherManager? _fetchers;
    private IAlterPartitionChannel? _alterPartition;
    private ReplicationOptions _replication = new();
    private TimeProvider _time = TimeProvider.System;
    private ITimer? _isrTimer;
    private readonly CancellationTokenSource _stopping = new();

    public ReplicationOptions Replication => _replication;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Turns on replication: followers fetch through <paramref name="fetchers"/>, ISR changes go to the controller
    /// through <paramref name="alterPartition"/>, and the ISR is checked every replica.lag.time.max.ms / 2 (as Kafka).
    /// Call before <see cref="Start"/>. Without it every partition behaves as on a single node.
    /// </summary>
    internal void EnableReplication(ReplicaFetcherManager fetchers, IAlterPartitionChannel alterPartition, ReplicationOptions options, TimeProvider time)
    {
        _fetchers = fetchers;
        _alterPartition = alterPartition;
        _replication = options;
        _time = time;
        var period = TimeSpan.FromMilliseconds(Math.Max(10, options.ReplicaLagTimeMaxMs / 2));
        _isrTimer = time.CreateTimer(_ => CheckIsr(), null, period, period);
    }

    /// <summary>Gives <paramref name="partition"/> the role the image says; see <see cref="Partition.ApplyLeader"/> / <see cref="Partition.ApplyFollower"/>.</summary>
    private void ApplyRole(Partition partition, PartitionImage image)
    {
        if (image.Leader == _nodeId)
        {
            bool wasLeader = partition.IsLeader && partition.LeaderEpoch == image.LeaderEpoch;
            _fetchers?.RemovePartition(partition); // returns once the fetcher no longer writes to the log
            partition.ApplyLeader(image, NowMs);
            if (!wasLeader && image.Replicas.Length > 1)
                _logger.LogInformation("{Topic}-{Partition}: leader in epoch {Epoch} from offset {Offset}, ISR [{Isr}]",
                    partition.Topic, partition.Index, image.LeaderEpoch, partition.Log.LogEndOffset, string.Join(",", image.Isr));
            return;
        }
        if (!partition.ApplyFollower(image)) return;
        if (image.Leader < 0 || _fetchers is null)
        {
            _fetchers?.RemovePartition(partition);
            return;
        }
        _fetchers.AddPartition(partition, image.Leader, image.LeaderEpoch);
        _logger.LogInformation("{Topic}-{Partition}: follower of {Leader} in epoch {Epoch} from offset {Offset}",
            partition.Topic, partition.Index, image.Leader, image.LeaderEpoch, partition.Log.LogEndOffset);
    }

    /// <summary>
    /// A follower fetched <paramref name="partition"/> at <paramref name="fetchOffset"/> (its durable log end): records
    /// its progress, moves the high watermark, and asks the controller to add it to the ISR once it is in sync.
    /// </summary>
    internal void RecordFollowerFetch(Partition partition, int replicaId, long fetchOffset)
    {
        var expand = partition.RecordFollowerFetch(replicaId, fetchOffset, NowMs);
        if (expand is not null)
        {
            _logger.LogInformation("{Topic}-{Partition}: expanding ISR [{Old}] -> [{New}]: replica {Replica} caught up to {Offset}",
                partition.Topic, partition.Index, string.Join(",", partition.Isr), string.Join(",", expand), replicaId, fetchOffset);
            _ = AlterIsrAsync(partition, expand);
        }
    }

    /// <summary>Kafka's isr-expiration task: removes followers that have not caught up within replica.lag.time.max.ms.</summary>
    private void CheckIsr()
    {
        long now = NowMs;
        foreach (var partition in _partitions.Values)
        {
            var shrink = partition.ProposeShrink(now, _replication.ReplicaLagTimeMaxMs);
            if (shrink is null) continue;
            _logger.LogInformation("{Topic}-{Partition}: shrinking ISR [{Old}] -> [{New}]: replicas [{Lagging}] have not caught up within {Lag} ms (leader end {End}, high watermark {Hw})",
                partition.Topic, partition.Index, string.Join(",", partition.Isr), string.Join(",", shrink),
                string.Join(",", partition.Isr.Except(shrink)), _replication.ReplicaLagTimeMaxMs, partition.Log.LogEndOffset, partition.HighWatermark);
            _ = AlterIsrAsync(partition, shrink);
        }
    }

    private async Task AlterIsrAsync(Partition partition, int[] proposed)
    {
        if (_alterPartition is null)
        {
            partition.ClearPendingIsr(proposed);
            return;
        }
        var (leaderEpoch, partitionEpoch) = partition.Epochs();
        try
        {
            var result = await _alterPartition.AlterPartitionAsync(
                new AlterPartitionSpec(_nodeId, partition.TopicId, partition.Index, leaderEpoch, partitionEpoch, proposed), _stopping.Token).ConfigureAwait(false);
            if (result.Error == ErrorCode.None && result.Partition is { } committed)
            {
                // The controller answers with the committed state; apply it now (the image may arrive later).
                lock (_applyLock)
                    if (_partitions.TryGetValue((partition.Topic, partition.Index), out var current) && ReferenceEquals(current, partition))
                        ApplyRole(partition, committed);
                partition.ClearPendingIsr(proposed);
                return;
            }
            // Refusals are routine while a restarted broker is still fenced (INELIGIBLE_REPLICA) or after an election.
            _logger.LogInformation("{Topic}-{Partition}: ISR change to [{Isr}] refused: {Error} {Message}",
                partition.Topic, partition.Index, string.Join(",", proposed), result.Error, result.Message);
        }
        catch (MetadataConflictException)
        {
            // The image moved on under the controller's validation: the next fetch or ISR check proposes again.
            partition.ClearPendingIsr(proposed);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            _logger.LogWarning("{Topic}-{Partition}: ISR change to [{Isr}] failed: {Reason}", partition.Topic, partition.Index,
                string.Join(",", proposed), e.Message);
        }
        catch (OperationCanceledException)
        {
        }
        partition.ClearPendingIsr(proposed, NowMs + AlterPartitionRetryBackoffMs);
    }

    /// <summary>Pause after a refused or failed ISR change before the leader proposes again.</summary>
    private const long AlterPartitionRetryBackoffMs = 1000;

    private void StopIsrChecks()
    {
        _isrTimer?.Dispose();
        _stopping.Cancel();
    }
}
