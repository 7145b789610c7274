using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

/// <summary>One partition of an OffsetCommit that passed the handler's checks (authorization, topic exists).</summary>
public readonly record struct OffsetCommitEntry(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata);

/// <summary>Committed offsets: commit, fetch, delete and expiry, independent of the group protocol.</summary>
public sealed partial class GroupCoordinatorShard
{
    /// <summary>
    /// Validates the committer as Kafka does for classic groups (a simple commit with generation -1 is allowed for
    /// an empty or unknown group, which is then created as an Empty group; otherwise the member must belong to the
    /// current generation and the group must not be awaiting its assignment), persists the offsets and applies
    /// them once durable. Returns one error for the whole request.
    /// </summary>
    public async Task<ErrorCode> CommitOffsetsAsync(string groupId, int generationId, string memberId, string? instanceId,
        long expireTimestamp, IReadOnlyList<OffsetCommitEntry> entries)
    {
        Task durable;
        List<(OffsetCommitEntry Entry, CommittedOffset Value)> values;
        long sequence;
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return StatusError;
            var error = ValidateCommit(groupId, generationId, memberId, instanceId, entries);
            if (error != ErrorCode.None) return error;
            if (entries.Count == 0) return ErrorCode.None;
            long now = NowMs;
            values = entries.Select(e => (e, new CommittedOffset(e.Offset, e.LeaderEpoch, e.Metadata ?? "", now, expireTimestamp))).ToList();
            sequence = ++_commitSequence;
            durable = Persist(values.Select(v => GroupRecordSerde.OffsetCommit(groupId, v.Entry.Topic, v.Entry.Partition, v.Value)).ToList());
        }
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogWarning(e, "Persisting offsets of group {Group} failed", groupId);
            return ErrorCode.CoordinatorNotAvailable;
        }
        lock (Lock)
        {
            foreach (var (entry, value) in values) Offsets.PutIfNewer(groupId, entry.Topic, entry.Partition, value, sequence);
        }
        return ErrorCode.None;
    }

    private ErrorCode ValidateCommit(string groupId, int generationId, string memberId, string? instanceId, IReadOnlyList<OffsetCommitEntry> entries)
    {
        var group = Group(groupId);
        if (group is null)
        {
            if (generationId >= 0) return ErrorCode.IllegalGeneration;
            AddGroup(new ClassicGroup(groupId, NowMs));
            return ErrorCode.None;
        }
        if (group is ConsumerGroup consumer) return ConsumerGroupCoordinator.ValidateCommit(consumer, generationId, memberId, entries);
        if (group is not ClassicGroup classic) return ErrorCode.UnknownMemberId;
        if (classic.State == ClassicGroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
        if (instanceId is not null && classic.StaticMemberId(instanceId) is { } current && current != memberId) return ErrorCode.FencedInstanceId;
        if (generationId < 0 && classic.State == ClassicGroupState.Empty) return ErrorCode.None;
        var member = classic.Member(memberId);
        if (member is null) return ErrorCode.UnknownMemberId;
        if (generationId != classic.GenerationId) return ErrorCode.IllegalGeneration;
        if (classic.State == ClassicGroupState.CompletingRebalance) return ErrorCode.RebalanceInProgress;
        Classic.TouchSession(classic, member);
        return ErrorCode.None;
    }

    /// <summary>Committed offsets of a group; <paramref name="partitions"/> null = all of them.</summary>
    public (ErrorCode Error, List<(string Topic, int Partition, CommittedOffset? Offset)> Offsets) FetchOffsets(
        string groupId, IReadOnlyList<(string Topic, int Partition)>? partitions)
    {
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return (StatusError, []);
            if (partitions is null)
                return (ErrorCode.None, Offsets.All(groupId)
                    .OrderBy(kv => kv.Key.Topic, StringComparer.Ordinal).ThenBy(kv => kv.Key.Partition)
                    .Select(kv => (kv.Key.Topic, kv.Key.Partition, (CommittedOffset?)kv.Value)).ToList());
            return (ErrorCode.None, partitions.Select(p => (p.Topic, p.Partition, Offsets.Get(groupId, p.Topic, p.Partition))).ToList());
        }
    }

    /// <summary>
    /// OffsetDelete: GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP for a non-empty group of another protocol
    /// type than "consumer"; per partition GROUP_SUBSCRIBED_TO_TOPIC when a member subscribes to the topic.
    /// </summary>
    public async Task<(ErrorCode Error, List<ErrorCode> Partitions)> DeleteOffsetsAsync(string groupId, IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        Task durable;
        var results = new List<ErrorCode>();
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return (StatusError, []);
            var group = Group(groupId);
            if (group is null && !Offsets.HasOffsets(groupId)) return (ErrorCode.GroupIdNotFound, []);
            if (group is not null && !group.IsEmpty && group.ProtocolType != "consumer") return (ErrorCode.NonEmptyGroup, []);
            var records = new List<CoordinatorRecord>();
            foreach (var (topic, partition) in partitions)
            {
                if (group is not null && !group.IsEmpty && group.IsSubscribedTo(topic))
                {
                    results.Add(ErrorCode.GroupSubscribedToTopic);
                    continue;
                }
                if (Offsets.Remove(groupId, topic, partition, ++_commitSequence))
                    records.Add(GroupRecordSerde.OffsetCommit(groupId, topic, partition, null));
                results.Add(ErrorCode.None);
            }
            durable = records.Count > 0 ? Persist(records) : Task.CompletedTask;
        }
        await durable.ConfigureAwait(false);
        return (ErrorCode.None, results);
    }

    /// <summary>
    /// Offset expiry as Kafka 2.1+: offsets of Empty groups expire offsets.retention.minutes after the group became
    /// empty; in a Stable consumer group only offsets of topics no member subscribes to expire (after their commit).
    /// An Empty group left without offsets is deleted (tombstone), as Kafka does.
    /// </summary>
    public int ExpireOffsets()
    {
        int expiredCount = 0;
        lock (Lock)
        {
            if (_status != ShardStatus.Active) return 0;
            long now = NowMs;
            var records = new List<CoordinatorRecord>();
            foreach (var groupId in Offsets.Groups.ToList())
            {
                var group = Group(groupId);
                List<(string Topic, int Partition)> expired;
                if (group is null || group.IsEmpty)
                    expired = Offsets.Expired(groupId, now, Config.OffsetsRetentionMs,
                        // Groups with a protocol expire from when they became empty; simple consumers (commits
                        // without membership, no protocol type) expire per offset, from its own commit time — as Kafka.
                        group is ClassicGroup { ProtocolType.Length: > 0 } c ? c.CurrentStateTimestamp : null, _ => true);
                else if (group is ClassicGroup { State: ClassicGroupState.Stable, ProtocolType: "consumer" } stable)
                    expired = Offsets.Expired(groupId, now, Config.OffsetsRetentionMs, null, t => !stable.IsSubscribedTo(t));
                else continue;
                foreach (var (topic, partition) in expired)
                {
                    Offsets.Remove(groupId, topic, partition, ++_commitSequence);
                    records.Add(GroupRecordSerde.OffsetCommit(groupId, topic, partition, null));
                }
                expiredCount += expired.Count;
            }
            foreach (var group in _groups.Values.OfType<ClassicGroup>().ToList())
            {
                if (group.State != ClassicGroupState.Empty || Offsets.HasOffsets(group.GroupId)) continue;
                if (now - group.CurrentStateTimestamp < Config.OffsetsRetentionMs && group.GenerationId > 0) continue;
                Classic.MarkDead(group);
                RemoveGroup(group.GroupId);
                records.Add(GroupRecordSerde.GroupMetadata(group.GroupId, null));
            }
            if (records.Count > 0)
            {
                _ = Persist(records);
                _logger.LogInformation("Expired {Count} offsets in __consumer_offsets-{Partition}", expiredCount, PartitionIndex);
            }
        }
        return expiredCount;
    }
}
