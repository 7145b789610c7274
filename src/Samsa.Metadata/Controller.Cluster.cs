using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Metadata;

/// <summary>Outcome of a broker heartbeat at the active controller (Kafka's BrokerHeartbeatResponse fields).</summary>
public sealed record HeartbeatOutcome(bool IsFenced, bool ShouldShutDown, bool IsCaughtUp);

/// <summary>One partition's result of a leader election (ElectLeaders).</summary>
public sealed record ElectionResult(string Topic, int Partition, ErrorCode Error, string? Message);

// Broker lifecycle and partition leadership: the active controller's part of the controller (KRaft's
// ClusterControlManager + ReplicationControlManager election logic). Every method validates against the image it read
// and appends with that image's offset, so a concurrent write makes it fail with MetadataConflictException, never
// apply on a stale view. Leaders are only ever chosen from the ISR, except with unclean.leader.election.enable.
public sealed partial class Controller
{
    /// <summary>
    /// A broker (re-)registers: a new incarnation (or changed endpoints) writes a fenced registration; the broker is
    /// unfenced by a later heartbeat that has caught up to that registration. Returns the offset to catch up to.
    /// </summary>
    public async Task<long?> RegisterIfChangedAsync(RegisterBrokerRecord registration, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            var existing = image.Brokers.GetValueOrDefault(registration.BrokerId);
            if (existing is not null && existing.Incarnation == registration.Incarnation
                && existing.Endpoints.SequenceEqual(registration.Endpoints) && existing.Rack == registration.Rack)
                return null;
            var records = new List<MetadataRecord> { registration with { Fenced = true } };
            records.AddRange(RemoveFromPartitions(image, registration.BrokerId, _ => false)); // a restarted broker lost its place
            await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
            logger.LogInformation("Broker {Broker} registered (incarnation {Incarnation}); fenced until caught up", registration.BrokerId, registration.Incarnation);
            return image.Offset + 1;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Unfences a caught-up broker and gives it back leadership of partitions left without a leader.</summary>
    public async Task UnfenceAsync(int brokerId, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            if (image.Brokers.GetValueOrDefault(brokerId) is not { Fenced: true } && image.Brokers.GetValueOrDefault(brokerId) is not { InControlledShutdown: true })
                return;
            var records = new List<MetadataRecord> { new BrokerRegistrationChangeRecord(brokerId, false, false) };
            foreach (var topic in image.TopicsById.Values)
                foreach (var p in topic.Partitions)
                    if (p.Leader == -1 && p.Isr.Contains(brokerId))
                        records.Add(new PartitionChangeRecord(topic.TopicId, p.PartitionId, brokerId, null, null));
            await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
            logger.LogInformation("Broker {Broker} unfenced; {Count} leaderless partition(s) now led by it", brokerId, records.Count - 1);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Fences a broker (session expired) or, with <paramref name="controlledShutdown"/>, marks it shutting down: either
    /// way it leaves every ISR and each partition it led gets a new leader from the remaining ISR (epoch bump), or none.
    /// </summary>
    public async Task FenceAsync(int brokerId, bool controlledShutdown, Func<string, bool> uncleanElection, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            if (image.Brokers.GetValueOrDefault(brokerId) is not { } broker) return;
            if (controlledShutdown ? broker.InControlledShutdown : broker.Fenced) return;
            var records = new List<MetadataRecord>
            {
                controlledShutdown ? new BrokerRegistrationChangeRecord(brokerId, null, true) : new BrokerRegistrationChangeRecord(brokerId, true, null),
            };
            records.AddRange(RemoveFromPartitions(image, brokerId, uncleanElection));
            await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
            logger.LogInformation("Broker {Broker} {Action}; {Count} partition(s) changed leader or ISR", brokerId,
                controlledShutdown ? "in controlled shutdown" : "fenced", records.Count - 1);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Partitions whose leader is <paramref name="brokerId"/> (a broker may stop once this is zero).</summary>
    public int LeadershipCount(int brokerId) =>
        log.Image.TopicsById.Values.Sum(t => t.Partitions.Count(p => p.Leader == brokerId));

    /// <summary>
    /// Elects preferred (first-assigned) replicas where they are live, in the ISR and not leading yet; or, with
    /// <paramref name="unclean"/>, any live replica for partitions without a leader. <paramref name="partitions"/> null
    /// means every partition (the periodic auto.leader.rebalance.enable check).
    /// </summary>
    public async Task<IReadOnlyList<ElectionResult>> ElectLeadersAsync(
        IReadOnlyCollection<(string Topic, int Partition)>? partitions, bool unclean, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            var results = new List<ElectionResult>();
            var records = new List<MetadataRecord>();
            var targets = partitions ?? image.TopicsByName.Values.SelectMany(t => t.Partitions.Select(p => (t.Name, p.PartitionId))).ToList();
            foreach (var (topicName, partitionId) in targets)
            {
                var topic = image.Topic(topicName);
                if (topic is null || partitionId < 0 || partitionId >= topic.Partitions.Length)
                {
                    results.Add(new(topicName, partitionId, ErrorCode.UnknownTopicOrPartition, "The partition does not exist."));
                    continue;
                }
                var p = topic.Partitions[partitionId];
                if (unclean)
                {
                    if (p.Leader != -1)
                    {
                        results.Add(new(topicName, partitionId, ErrorCode.ElectionNotNeeded, "The partition has a leader."));
                        continue;
                    }
                    int candidate = p.Replicas.FirstOrDefault(r => IsLive(image, r), -1);
                    if (candidate == -1)
                    {
                        results.Add(new(topicName, partitionId, ErrorCode.EligibleLeadersNotAvailable, "No live replica."));
                        continue;
                    }
                    records.Add(new PartitionChangeRecord(topic.TopicId, partitionId, candidate, [candidate], null));
                    results.Add(new(topicName, partitionId, ErrorCode.None, null));
                    continue;
                }
                int preferred = p.Replicas[0];
                if (p.Leader == preferred)
                {
                    results.Add(new(topicName, partitionId, ErrorCode.ElectionNotNeeded, "The preferred replica is the leader."));
                    continue;
                }
                if (!p.Isr.Contains(preferred) || !IsLive(image, preferred))
                {
                    results.Add(new(topicName, partitionId, ErrorCode.PreferredLeaderNotAvailable,
                        $"Preferred replica {preferred} is not live or not in the ISR."));
                    continue;
                }
                records.Add(new PartitionChangeRecord(topic.TopicId, partitionId, preferred, null, null));
                results.Add(new(topicName, partitionId, ErrorCode.None, null));
            }
            if (records.Count > 0)
            {
                await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
                logger.LogInformation("Elected {Kind} leaders for {Count} partition(s)", unclean ? "unclean" : "preferred", records.Count);
            }
            return results;
        }
        finally
        {
            _lock.Release();
        }
    }

    private static bool IsLive(MetadataImage image, int brokerId) => image.Brokers.GetValueOrDefault(brokerId) is { IsLive: true };

    /// <summary>Takes <paramref name="brokerId"/> out of every ISR; partitions it led get the first live ISR member.</summary>
    private static IEnumerable<MetadataRecord> RemoveFromPartitions(MetadataImage image, int brokerId, Func<string, bool> uncleanElection)
    {
        foreach (var topic in image.TopicsById.Values)
        {
            foreach (var p in topic.Partitions)
            {
                if (p.Leader != brokerId && !p.Isr.Contains(brokerId)) continue;
                var isr = p.Isr.Remove(brokerId);
                int? leader = null;
                if (p.Leader == brokerId || p.Leader == -1)
                {
                    int next = p.Replicas.FirstOrDefault(r => r != brokerId && isr.Contains(r) && IsLive(image, r), -1);
                    if (next == -1 && uncleanElection(topic.Name))
                    {
                        next = p.Replicas.FirstOrDefault(r => r != brokerId && IsLive(image, r), -1);
                        if (next != -1) isr = [next];
                    }
                    leader = next;
                }
                // Kafka keeps the last ISR member when nobody else is in sync, so a clean election can still pick it later.
                if (isr.IsEmpty) isr = ImmutableArray.Create(brokerId);
                if (leader == p.Leader) leader = null;
                if (leader is null && isr.SequenceEqual(p.Isr)) continue;
                yield return new PartitionChangeRecord(topic.TopicId, p.PartitionId, leader, [.. isr], null);
            }
        }
    }
}
