using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

/// <summary>The topics a heartbeat may subscribe to, from the metadata image at the time of the request.</summary>
public interface ITopicCatalog
{
    ConsumerGroupTopic? Topic(string name);

    IEnumerable<ConsumerGroupTopic> Topics { get; }
}

/// <summary>A ConsumerGroupHeartbeat as the coordinator sees it; null fields did not change since the last heartbeat.</summary>
public sealed record ConsumerGroupHeartbeatCommand(
    string GroupId, string MemberId, int MemberEpoch, string? InstanceId, string? RackId, int RebalanceTimeoutMs,
    IReadOnlyList<string>? SubscribedTopicNames, string? SubscribedTopicRegex, string? ServerAssignor,
    IReadOnlyList<TopicIdPartition>? OwnedPartitions, string ClientId, string ClientHost, short ApiVersion = 1);

/// <summary>The answer to a heartbeat; <see cref="Assignment"/> is null when the member's assignment did not change.</summary>
public sealed record ConsumerGroupHeartbeatResult(ErrorCode Error, string? ErrorMessage, string? MemberId = null, int MemberEpoch = 0,
    int HeartbeatIntervalMs = 0, IReadOnlySet<TopicIdPartition>? Assignment = null);

/// <summary>
/// The KIP-848 consumer group protocol as Kafka's GroupMetadataManager.consumerGroupHeartbeat: a member joins with
/// epoch 0, its subscription changes bump the group epoch, a server-side assignor computes the target assignment
/// for the new epoch, and each heartbeat reconciles the member towards it (<see cref="CurrentAssignmentBuilder"/>).
/// Leaves (epoch -1, static -2), session expiry and revocation timeouts remove or fence members. Every change is
/// persisted as consumer group records under the shard lock, in the order applied; the response waits until durable.
/// </summary>
public sealed partial class ConsumerGroupCoordinator(GroupCoordinatorShard shard)
{
    private GroupCoordinatorConfig Config => shard.Config;

    public async Task<ConsumerGroupHeartbeatResult> HeartbeatAsync(ConsumerGroupHeartbeatCommand c, ITopicCatalog catalog)
    {
        ConsumerGroupHeartbeatResult result;
        Task durable;
        lock (shard.Lock)
        {
            var records = new List<CoordinatorRecord>();
            result = shard.StatusError != ErrorCode.None
                ? new(shard.StatusError, null)
                : Validate(c) ?? (c.MemberEpoch < 0 ? Leave(c, records) : JoinOrUpdate(c, catalog, records));
            durable = records.Count > 0 ? shard.Persist(records) : Task.CompletedTask;
        }
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            shard.Logger.LogWarning(e, "Persisting consumer group {Group} failed", c.GroupId);
            return new(ErrorCode.CoordinatorNotAvailable, null);
        }
        return result;
    }

    /// <summary>Request checks of Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid; null when valid.</summary>
    private static ConsumerGroupHeartbeatResult? Validate(ConsumerGroupHeartbeatCommand c)
    {
        static ConsumerGroupHeartbeatResult Invalid(string message) => new(ErrorCode.InvalidRequest, message);
        if (c.GroupId.Length == 0) return Invalid("GroupId can't be empty.");
        if (c.InstanceId is { Length: 0 }) return Invalid("InstanceId can't be empty.");
        if (c.RackId is { Length: 0 }) return Invalid("RackId can't be empty.");
        if (c.ApiVersion >= 1 && c.MemberId.Length == 0) return Invalid("MemberId can't be empty.");
        if (c.MemberEpoch > 0 && c.MemberId.Length == 0) return Invalid("MemberId can't be empty.");
        if (c.MemberEpoch < ConsumerGroupMember.LeftStaticEpoch) return Invalid($"MemberEpoch {c.MemberEpoch} is invalid.");
        if (c.MemberEpoch == ConsumerGroupMember.LeftStaticEpoch && c.InstanceId is null)
            return Invalid("InstanceId can't be null when leaving as a static member.");
        if (c.MemberEpoch == 0)
        {
            if (c.RebalanceTimeoutMs == -1) return Invalid("RebalanceTimeoutMs must be provided in first request.");
            if (c.OwnedPartitions is null || c.OwnedPartitions.Count > 0) return Invalid("TopicPartitions must be empty when (re-)joining.");
            if (c.SubscribedTopicNames is null && c.SubscribedTopicRegex is null)
                return Invalid("SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
        }
        if (c.SubscribedTopicRegex is { } regex)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(regex);
            }
            catch (ArgumentException e)
            {
                return new(ErrorCode.InvalidRegularExpression, $"SubscribedTopicRegex {regex} is invalid: {e.Message}");
            }
        }
        return null;
    }

    private ConsumerGroupHeartbeatResult JoinOrUpdate(ConsumerGroupHeartbeatCommand c, ITopicCatalog catalog, List<CoordinatorRecord> records)
    {
        if (c.ServerAssignor is { } requested && !Config.ConsumerGroupAssignors.Contains(requested, StringComparer.Ordinal))
            return new(ErrorCode.UnsupportedAssignor, $"ServerAssignor {requested} is not supported. Supported assignors: {string.Join(", ", Config.ConsumerGroupAssignors)}.");
        var (group, groupError) = GroupFor(c.GroupId, create: c.MemberEpoch == 0, records);
        if (group is null) return groupError!;

        var (member, isNew, error) = c.InstanceId is null ? DynamicMember(group, c) : StaticMember(group, c, records);
        if (error is not null) return error;
        bool bump = isNew | UpdateMetadata(group, member!, c, isNew, records);
        if (isNew) group.AddMember(member!);
        bump |= RefreshSubscriptionMetadata(group, catalog, records);
        if (bump || group.GroupEpoch > group.AssignmentEpoch)
        {
            if (bump)
            {
                group.GroupEpoch++;
                records.Add(ConsumerGroupRecordSerde.GroupEpoch(group.GroupId, group.GroupEpoch));
            }
            ComputeTargetAssignment(group, records);
        }

        var before = member!.Assigned;
        Reconcile(group, member, c.OwnedPartitions, records);
        TouchSession(group, member);
        bool full = c.MemberEpoch == 0 || (c.RebalanceTimeoutMs != -1 && c.SubscribedTopicNames is not null && c.OwnedPartitions is not null);
        return new(ErrorCode.None, null, member.MemberId, member.MemberEpoch, Config.ConsumerGroupHeartbeatIntervalMs,
            full || !before.SetEquals(member.Assigned) ? member.Assigned : null);
    }

    /// <summary>
    /// The consumer group of the id, created for a joining member. An empty classic group of the same id is replaced
    /// (its offsets stay); a non-empty one answers GROUP_ID_NOT_FOUND as Kafka does without online migration.
    /// </summary>
    private (ConsumerGroup? Group, ConsumerGroupHeartbeatResult? Error) GroupFor(string groupId, bool create, List<CoordinatorRecord> records)
    {
        switch (shard.Group(groupId))
        {
            case ConsumerGroup existing:
                return (existing, null);
            case ClassicGroup classic when !create || !classic.IsEmpty:
                return (null, new(ErrorCode.GroupIdNotFound, $"Group {groupId} is not a consumer group."));
            case ClassicGroup classic:
                shard.Classic.MarkDead(classic);
                shard.RemoveGroup(groupId);
                records.Add(GroupRecordSerde.GroupMetadata(groupId, null));
                break;
            case null when !create:
                return (null, new(ErrorCode.GroupIdNotFound, $"Consumer group {groupId} not found."));
        }
        var group = new ConsumerGroup(groupId);
        shard.AddGroup(group);
        shard.Logger.LogInformation("Created consumer group {Group}", groupId);
        return (group, null);
    }

    private (ConsumerGroupMember? Member, bool IsNew, ConsumerGroupHeartbeatResult? Error) DynamicMember(ConsumerGroup group, ConsumerGroupHeartbeatCommand c)
    {
        var member = c.MemberId.Length == 0 ? null : group.Member(c.MemberId);
        if (c.MemberEpoch == 0)
            return member is not null ? (member, false, null) : (new ConsumerGroupMember(c.MemberId.Length == 0 ? Guid.NewGuid().ToString() : c.MemberId), true, null);
        if (member is null) return (null, false, new(ErrorCode.UnknownMemberId, $"Member {c.MemberId} is not a member of group {group.GroupId}."));
        var fenced = CheckEpoch(member, c);
        return fenced is null ? (member, false, null) : (null, false, fenced);
    }

    /// <summary>
    /// KIP-848 static membership: a known instance id that left with epoch -2 may rejoin with a new member id and
    /// takes over its assignment without a rebalance; while the old member is active the instance id is unreleased.
    /// </summary>
    private (ConsumerGroupMember? Member, bool IsNew, ConsumerGroupHeartbeatResult? Error) StaticMember(ConsumerGroup group,
        ConsumerGroupHeartbeatCommand c, List<CoordinatorRecord> records)
    {
        var existing = group.StaticMember(c.InstanceId!);
        if (c.MemberEpoch != 0)
        {
            if (existing is null) return (null, false, new(ErrorCode.UnknownMemberId, $"Instance {c.InstanceId} is unknown."));
            if (existing.MemberId != c.MemberId) return (null, false, new(ErrorCode.FencedInstanceId, $"Instance {c.InstanceId} belongs to another member."));
            var fenced = CheckEpoch(existing, c);
            return fenced is null ? (existing, false, null) : (null, false, fenced);
        }
        if (existing is null) return DynamicMember(group, c with { InstanceId = null });
        if (existing.MemberId == c.MemberId) return (existing, false, null);
        if (existing.MemberEpoch != ConsumerGroupMember.LeftStaticEpoch)
            return (null, false, new(ErrorCode.UnreleasedInstanceId, $"Instance {c.InstanceId} is still in use by member {existing.MemberId}."));

        string newId = c.MemberId.Length == 0 ? Guid.NewGuid().ToString() : c.MemberId;
        var replacement = new ConsumerGroupMember(newId)
        {
            InstanceId = existing.InstanceId,
            RackId = existing.RackId,
            SubscribedTopicNames = existing.SubscribedTopicNames,
            SubscribedTopicRegex = existing.SubscribedTopicRegex,
            RebalanceTimeoutMs = existing.RebalanceTimeoutMs,
            ServerAssignor = existing.ServerAssignor,
            MemberEpoch = 0,
            PreviousMemberEpoch = existing.PreviousMemberEpoch,
            Assigned = existing.Assigned,
        };
        var target = group.TargetAssignment.GetValueOrDefault(existing.MemberId);
        records.AddRange(ConsumerGroupRecordSerde.MemberTombstones(group.GroupId, existing.MemberId));
        group.RemoveMember(existing.MemberId);
        group.AddMember(replacement);
        if (target is not null)
        {
            group.TargetAssignment[newId] = target;
            records.Add(ConsumerGroupRecordSerde.TargetMember(group.GroupId, newId, target));
        }
        records.Add(ConsumerGroupRecordSerde.MemberMetadata(group.GroupId, replacement));
        records.Add(ConsumerGroupRecordSerde.CurrentAssignment(group.GroupId, replacement));
        shard.Logger.LogInformation("Static member {Instance} of consumer group {Group} rejoined as {Member} (was {Old})",
            c.InstanceId, group.GroupId, newId, existing.MemberId);
        return (replacement, false, null);
    }

    /// <summary>
    /// FENCED_MEMBER_EPOCH unless the epoch is the member's, or its previous one with owned partitions within its
    /// assignment (the response bumping the epoch was lost).
    /// </summary>
    private static ConsumerGroupHeartbeatResult? CheckEpoch(ConsumerGroupMember member, ConsumerGroupHeartbeatCommand c)
    {
        if (c.MemberEpoch == member.MemberEpoch) return null;
        if (c.MemberEpoch < member.MemberEpoch && c.MemberEpoch == member.PreviousMemberEpoch
            && c.OwnedPartitions is not null && c.OwnedPartitions.All(member.Assigned.Contains))
            return null;
        return new(ErrorCode.FencedMemberEpoch, $"The member epoch {c.MemberEpoch} does not match the expected epoch {member.MemberEpoch}.");
    }

    /// <summary>Applies the non-null fields of the heartbeat; true when the change calls for a new group epoch.</summary>
    private static bool UpdateMetadata(ConsumerGroup group, ConsumerGroupMember m, ConsumerGroupHeartbeatCommand c, bool isNew, List<CoordinatorRecord> records)
    {
        bool bump = false, changed = isNew;
        if (c.SubscribedTopicNames is { } names && !names.Order(StringComparer.Ordinal).SequenceEqual(m.SubscribedTopicNames.Order(StringComparer.Ordinal)))
        {
            m.SubscribedTopicNames = names.Distinct(StringComparer.Ordinal).ToList();
            bump = changed = true;
        }
        // An empty regex clears the regex subscription (librdkafka sends "" with its topic names).
        if (c.SubscribedTopicRegex is { } regex && (regex.Length == 0 ? null : regex) != m.SubscribedTopicRegex)
        {
            m.SubscribedTopicRegex = regex.Length == 0 ? null : regex;
            bump = changed = true;
        }
        if (c.ServerAssignor is { } assignor && assignor != m.ServerAssignor)
        {
            m.ServerAssignor = assignor;
            bump = changed = true;
        }
        if (c.RackId is { } rack && rack != m.RackId)
        {
            m.RackId = rack;
            bump = changed = true;
        }
        if (c.RebalanceTimeoutMs != -1 && c.RebalanceTimeoutMs != m.RebalanceTimeoutMs)
        {
            m.RebalanceTimeoutMs = c.RebalanceTimeoutMs;
            changed = true;
        }
        if (c.InstanceId is not null && c.InstanceId != m.InstanceId)
        {
            group.SetInstanceId(m, c.InstanceId);
            changed = true;
        }
        if (c.ClientId != m.ClientId || c.ClientHost != m.ClientHost)
        {
            m.ClientId = c.ClientId;
            m.ClientHost = c.ClientHost;
            changed = true;
        }
        if (changed) records.Add(ConsumerGroupRecordSerde.MemberMetadata(group.GroupId, m));
        return bump;
    }

    /// <summary>Recomputes the metadata of the subscribed topics from the catalog; true (and a record) when it changed.</summary>
    private static bool RefreshSubscriptionMetadata(ConsumerGroup group, ITopicCatalog catalog, List<CoordinatorRecord> records)
    {
        var fresh = new Dictionary<string, ConsumerGroupTopic>(StringComparer.Ordinal);
        foreach (var name in group.Members.SelectMany(m => m.SubscribedTopicNames).Distinct(StringComparer.Ordinal))
            if (catalog.Topic(name) is { } topic) fresh[name] = topic;
        if (group.Members.Any(m => m.SubscribedTopicRegex is not null))
            foreach (var topic in catalog.Topics)
                if (!fresh.ContainsKey(topic.Name) && group.Members.Any(m => m.SubscribedTopicRegex is { } r && group.Matches(r, topic.Name)))
                    fresh[topic.Name] = topic;
        if (fresh.Count == group.SubscriptionMetadata.Count && fresh.All(kv => group.SubscriptionMetadata.GetValueOrDefault(kv.Key) == kv.Value))
            return false;
        group.SubscriptionMetadata = fresh;
        records.Add(ConsumerGroupRecordSerde.PartitionMetadata(group));
        return true;
    }
}
