using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Metadata;

/// <summary>A partition leader's request to change the ISR (Kafka's AlterPartition, KIP-497), in controller terms.</summary>
/// <param name="BrokerId">The node asking; must be the partition's current leader.</param>
/// <param name="LeaderEpoch">The leader epoch the leader acts in.</param>
/// <param name="PartitionEpoch">The partition epoch its view of the ISR comes from (optimistic concurrency).</param>
/// <param name="NewIsr">The proposed ISR.</param>
public sealed record AlterPartitionSpec(int BrokerId, Guid TopicId, int PartitionId, int LeaderEpoch, int PartitionEpoch, int[] NewIsr);

/// <summary>The outcome: on success the partition as committed (new partition epoch), else the error.</summary>
public sealed record AlterPartitionResult(ErrorCode Error, PartitionImage? Partition, string? Message = null);

public sealed partial class Controller
{
    /// <summary>
    /// Validates and commits an ISR change as Kafka's ReplicationControlManager does: the partition must exist, the
    /// caller must be its leader in the same leader epoch (older → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH)
    /// and have seen the current partition epoch (else INVALID_UPDATE_VERSION); the new ISR must be a non-empty subset
    /// of the replicas containing the leader (else INVALID_REQUEST), and a replica it adds must be a live broker — registered,
    /// unfenced, not shutting down (else INELIGIBLE_REPLICA). The append is conditional on the image validated against
    /// (a concurrent metadata change → MetadataConflictException; the leader retries). The change is one PartitionChangeRecord, which bumps the partition epoch; an ISR
    /// equal to the current one is answered with the current state without a write.
    /// </summary>
    public async Task<AlterPartitionResult> AlterPartitionAsync(AlterPartitionSpec spec, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            if (!image.TopicsById.TryGetValue(spec.TopicId, out var topic))
                return new(ErrorCode.UnknownTopicId, null);
            if (spec.PartitionId < 0 || spec.PartitionId >= topic.Partitions.Length)
                return new(ErrorCode.UnknownTopicOrPartition, null);
            var partition = topic.Partitions[spec.PartitionId];
            if (spec.LeaderEpoch < partition.LeaderEpoch) return new(ErrorCode.FencedLeaderEpoch, null);
            if (spec.LeaderEpoch > partition.LeaderEpoch) return new(ErrorCode.UnknownLeaderEpoch, null);
            if (partition.Leader != spec.BrokerId)
                return new(ErrorCode.InvalidRequest, null, $"Broker {spec.BrokerId} is not the leader of {topic.Name}-{spec.PartitionId}.");
            if (spec.PartitionEpoch != partition.PartitionEpoch)
                return new(ErrorCode.InvalidUpdateVersion, null,
                    $"Partition epoch {spec.PartitionEpoch} is not the current {partition.PartitionEpoch}.");
            var newIsr = spec.NewIsr.Distinct().ToArray();
            if (newIsr.Length != spec.NewIsr.Length || newIsr.Length == 0 || !newIsr.Contains(spec.BrokerId)
                || newIsr.Any(r => !partition.Replicas.Contains(r)))
                return new(ErrorCode.InvalidRequest, null,
                    $"Invalid ISR [{string.Join(",", spec.NewIsr)}] for replicas [{string.Join(",", partition.Replicas)}] and leader {spec.BrokerId}.");
            var ineligible = newIsr.Where(r => !partition.Isr.Contains(r) && !IsEligibleForIsr(image, r)).ToArray();
            if (ineligible.Length > 0)
                return new(ErrorCode.IneligibleReplica, null, $"Replicas [{string.Join(",", ineligible)}] are not eligible to join the ISR.");
            // Keep the replica order (preferred replica first), as Kafka lists ISRs.
            int[] ordered = [.. partition.Replicas.Where(newIsr.Contains)];
            if (ordered.Length == partition.Isr.Length && ordered.All(partition.Isr.Contains))
                return new(ErrorCode.None, partition);

            // The ISR change that brings the last adding replica in sync also completes a reassignment (Controller.Reassignment.cs).
            if (CompleteReassignment(image, spec.TopicId, partition, ordered) is { } completion)
                await log.AppendAsync([completion], image.Offset, ct).ConfigureAwait(false);
            else
                await log.AppendAsync([new PartitionChangeRecord(spec.TopicId, spec.PartitionId, null, ordered, null)], image.Offset, ct).ConfigureAwait(false);
            var committed = log.Image.TopicsById[spec.TopicId].Partitions[spec.PartitionId];
            logger.LogInformation("{Topic}-{Partition}: ISR [{Old}] -> [{New}] (leader {Leader}, leader epoch {LeaderEpoch}, partition epoch {PartitionEpoch})",
                topic.Name, spec.PartitionId, string.Join(",", partition.Isr), string.Join(",", committed.Isr), committed.Leader,
                committed.LeaderEpoch, committed.PartitionEpoch);
            return new(ErrorCode.None, committed);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Whether a broker may be added to an ISR (Kafka's isEligibleReplica): registered, not fenced and not in controlled
    /// shutdown.
    /// </summary>
    private static bool IsEligibleForIsr(MetadataImage image, int brokerId) =>
        image.Brokers.TryGetValue(brokerId, out var broker) && broker.IsLive;
}
