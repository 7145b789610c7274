using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Metadata;

/// <summary>One partition of an AlterPartitionReassignments request: the target replicas, or null to cancel.</summary>
public sealed record ReassignmentSpec(string Topic, int Partition, int[]? TargetReplicas);

/// <summary>An ongoing reassignment as ListPartitionReassignments reports it.</summary>
public sealed record OngoingReassignment(
    string Topic, int Partition, ImmutableArray<int> Replicas, ImmutableArray<int> AddingReplicas, ImmutableArray<int> RemovingReplicas);

// Online partition reassignment the KIP-455 way (Kafka's ReplicationControlManager + PartitionReassignmentReplicas):
// a reassignment records the target in the partition itself — replicas become target ∪ current, with the new ones in
// AddingReplicas and the dropped ones in RemovingReplicas. The adding replicas' nodes see themselves in the replica set
// and fetch from the leader; the leader adds them to the ISR by its normal ISR expansion (AlterPartition), and the
// AlterPartition that puts the last adding replica into the ISR also completes the reassignment: replicas = target,
// removing replicas leave the replicas and the ISR, and a leader that is being removed hands leadership to the first
// in-sync target replica (a leader change, so a leader-epoch bump). Cancelling reverts to the original replicas.
public sealed partial class Controller
{
    public async Task<IReadOnlyList<ControllerResult>> AlterPartitionReassignmentsAsync(
        IReadOnlyList<ReassignmentSpec> specs, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(specs);
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Other nodes' writes (ISR changes, heartbeats) move the log all the time on a busy cluster; a conflict means
            // nothing was written, so validate again against the newer image, more persistently than the dispatcher's
            // generic retry: a reassignment batch may cover many partitions and is worth not failing.
            for (int attempt = 1; ; attempt++)
            {
                var image = log.Image;
                var (results, records) = PlanReassignments(image, specs);
                if (records.Count == 0) return results;
                try
                {
                    await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
                }
                catch (MetadataConflictException) when (attempt < MaxReassignmentAttempts)
                {
                    continue;
                }
                logger.LogInformation("Reassignment: {Count} partition(s) changed ({Partitions})", records.Count,
                    string.Join(", ", specs.Where((_, i) => results[i].IsOk).Select(s =>
                        $"{s.Topic}-{s.Partition} -> {(s.TargetReplicas is null ? "cancel" : "[" + string.Join(",", s.TargetReplicas) + "]")}")));
                return results;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private const int MaxReassignmentAttempts = 50;

    private (List<ControllerResult> Results, List<MetadataRecord> Records) PlanReassignments(MetadataImage image, IReadOnlyList<ReassignmentSpec> specs)
    {
        var results = new List<ControllerResult>(specs.Count);
        var records = new List<MetadataRecord>();
        var seen = new HashSet<(string, int)>();
        foreach (var spec in specs)
        {
            if (specs.Count > MaxPartitionsPerRequest)
            {
                results.Add(new(ErrorCode.PolicyViolation, ExcessivePartitions));
                continue;
            }
            if (!seen.Add((spec.Topic, spec.Partition)))
            {
                results.Add(new(ErrorCode.InvalidRequest, "Duplicate partition in request."));
                continue;
            }
            var topic = image.Topic(spec.Topic);
            if (topic is null || spec.Partition < 0 || spec.Partition >= topic.Partitions.Length)
            {
                results.Add(new(ErrorCode.UnknownTopicOrPartition, "The partition does not exist."));
                continue;
            }
            var partition = topic.Partitions[spec.Partition];
            var (result, record) = spec.TargetReplicas is null
                ? Cancel(image, topic, partition)
                : Reassign(image, topic, partition, spec.TargetReplicas);
            results.Add(result);
            if (record is not null) records.Add(record);
        }
        return (results, records);
    }

    /// <summary>Ongoing reassignments; <paramref name="partitions"/> null means all (unknown partitions are skipped, as Kafka).</summary>
    public IReadOnlyList<OngoingReassignment> ListPartitionReassignments(IReadOnlyCollection<(string Topic, int Partition)>? partitions)
    {
        var image = log.Image;
        IEnumerable<(TopicImage Topic, PartitionImage Partition)> candidates = partitions is null
            ? image.TopicsByName.Values.OrderBy(t => t.Name, StringComparer.Ordinal).SelectMany(t => t.Partitions.Select(p => (t, p)))
            : partitions.Select(tp => (Topic: image.Topic(tp.Topic), tp.Partition))
                .Where(x => x.Topic is not null && x.Partition >= 0 && x.Partition < x.Topic.Partitions.Length)
                .Select(x => (x.Topic!, x.Topic!.Partitions[x.Partition]));
        return [.. candidates.Where(c => c.Partition.IsReassigning)
            .Select(c => new OngoingReassignment(c.Topic.Name, c.Partition.PartitionId, c.Partition.Replicas, c.Partition.AddingReplicas, c.Partition.RemovingReplicas))];
    }

    private (ControllerResult, MetadataRecord?) Reassign(MetadataImage image, TopicImage topic, PartitionImage partition, int[] target)
    {
        if (target.Length == 0)
            return (new(ErrorCode.InvalidReplicaAssignment, "The target replica list is empty."), null);
        if (target.Distinct().Count() != target.Length)
            return (new(ErrorCode.InvalidReplicaAssignment, "The target replica list contains duplicates."), null);
        var unknown = target.Where(b => !image.Brokers.ContainsKey(b)).ToArray();
        if (unknown.Length > 0)
            return (new(ErrorCode.InvalidReplicaAssignment,
                $"The target replicas include broker(s) {string.Join(",", unknown)}, but no such broker is registered."), null);

        if (!partition.IsReassigning && target.SequenceEqual(partition.Replicas)) return (ControllerResult.Ok, null);

        // A new target replaces an ongoing one: start from the replicas the partition had before it (Kafka reverts first).
        var original = partition.Replicas.Where(r => !partition.AddingReplicas.Contains(r)).ToArray();
        int[] adding = [.. target.Where(r => !original.Contains(r))];
        int[] removing = [.. original.Where(r => !target.Contains(r))];
        int[] replicas = [.. target, .. removing];
        var isr = partition.Isr.Where(replicas.Contains).ToArray();
        if (isr.Length == 0)
            return (new(ErrorCode.InvalidReplicaAssignment, "No replica of the partition is in sync; it cannot be reassigned now."), null);

        var change = Completion(image, topic.TopicId, partition, replicas, isr, adding, removing);
        if (change is not null) return (ControllerResult.Ok, change);
        int? leader = replicas.Contains(partition.Leader) ? null : ElectFrom(image, replicas, isr);
        return (ControllerResult.Ok, new PartitionChangeRecord(topic.TopicId, partition.PartitionId, leader,
            isr.SequenceEqual(partition.Isr) ? null : isr, replicas, adding, removing));
    }

    private (ControllerResult, MetadataRecord?) Cancel(MetadataImage image, TopicImage topic, PartitionImage partition)
    {
        if (!partition.IsReassigning)
            return (new(ErrorCode.NoReassignmentInProgress, "No reassignment is in progress for the partition."), null);
        int[] original = [.. partition.Replicas.Where(r => !partition.AddingReplicas.Contains(r))];
        int[] isr = [.. partition.Isr.Where(original.Contains)];
        if (isr.Length == 0)
            return (new(ErrorCode.InvalidReplicaAssignment, "No original replica is in sync; the reassignment cannot be cancelled now."), null);
        int? leader = original.Contains(partition.Leader) ? null : ElectFrom(image, original, isr);
        return (ControllerResult.Ok, new PartitionChangeRecord(topic.TopicId, partition.PartitionId, leader, isr, original, [], []));
    }

    /// <summary>
    /// The record completing a reassignment whose adding replicas are all in <paramref name="isr"/>, or null while one
    /// is still catching up (or no target replica is in sync yet). Replicas become the target, the ISR keeps only
    /// target replicas, and the leader moves when it is being removed.
    /// </summary>
    private static PartitionChangeRecord? Completion(
        MetadataImage image, Guid topicId, PartitionImage partition, int[] replicas, int[] isr, int[] adding, int[] removing)
    {
        if (adding.Length == 0 && removing.Length == 0 && replicas.SequenceEqual(partition.Replicas)) return null;
        if (adding.Any(r => !isr.Contains(r))) return null;
        int[] target = [.. replicas.Where(r => !removing.Contains(r))];
        int[] newIsr = [.. target.Where(isr.Contains)];
        if (newIsr.Length == 0) return null;
        int? leader = target.Contains(partition.Leader) ? null : ElectFrom(image, target, newIsr);
        return new PartitionChangeRecord(topicId, partition.PartitionId, leader, newIsr, target, [], []);
    }

    /// <summary>The AlterPartition hook: completes the partition's reassignment when <paramref name="newIsr"/> finishes it.</summary>
    private static PartitionChangeRecord? CompleteReassignment(MetadataImage image, Guid topicId, PartitionImage partition, int[] newIsr)
    {
        if (!partition.IsReassigning) return null;
        return Completion(image, topicId, partition, [.. partition.Replicas], newIsr, [.. partition.AddingReplicas], [.. partition.RemovingReplicas]);
    }

    /// <summary>First live in-sync replica in replica order (the preferred one when possible); -1 when none.</summary>
    private static int ElectFrom(MetadataImage image, int[] replicas, int[] isr) =>
        replicas.FirstOrDefault(r => isr.Contains(r) && IsLive(image, r), -1);
}
