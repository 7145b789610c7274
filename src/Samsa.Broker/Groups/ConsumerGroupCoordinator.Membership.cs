using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

/// <summary>A consumer group member as ConsumerGroupDescribe shows it.</summary>
public sealed record ConsumerGroupMemberDescription(string MemberId, string? InstanceId, string? RackId, int MemberEpoch, string ClientId,
    string ClientHost, IReadOnlyList<string> SubscribedTopicNames, string? SubscribedTopicRegex,
    IReadOnlySet<TopicIdPartition> Assignment, IReadOnlySet<TopicIdPartition> TargetAssignment);

/// <summary>A consistent snapshot of a consumer group (taken under the shard lock).</summary>
public sealed record ConsumerGroupDescription(string GroupId, string State, int GroupEpoch, int AssignmentEpoch, string AssignorName,
    IReadOnlyDictionary<Guid, string> TopicNames, IReadOnlyList<ConsumerGroupMemberDescription> Members);

/// <summary>Leaving, expiry, fencing, target assignment, reconciliation and the offset commit check of consumer groups.</summary>
public sealed partial class ConsumerGroupCoordinator
{
    private ConsumerGroupHeartbeatResult Leave(ConsumerGroupHeartbeatCommand c, List<CoordinatorRecord> records)
    {
        if (shard.Group(c.GroupId) is not ConsumerGroup group)
            return new(ErrorCode.GroupIdNotFound, $"Consumer group {c.GroupId} not found.");
        var member = c.InstanceId is null ? group.Member(c.MemberId) : group.StaticMember(c.InstanceId);
        if (member is null) return new(ErrorCode.UnknownMemberId, $"Member {c.MemberId} is not a member of group {group.GroupId}.");
        if (c.InstanceId is not null && member.MemberId != c.MemberId)
            return new(ErrorCode.FencedInstanceId, $"Instance {c.InstanceId} belongs to another member.");
        if (c.MemberEpoch == ConsumerGroupMember.LeftStaticEpoch)
        {
            // The static member keeps its assignment until it rejoins or its session expires.
            member.MemberEpoch = ConsumerGroupMember.LeftStaticEpoch;
            member.RevocationTimer?.Dispose();
            records.Add(ConsumerGroupRecordSerde.CurrentAssignment(group.GroupId, member));
            shard.Logger.LogInformation("Static member {Instance} of consumer group {Group} left temporarily", c.InstanceId, group.GroupId);
            return new(ErrorCode.None, null, member.MemberId, ConsumerGroupMember.LeftStaticEpoch);
        }
        RemoveMember(group, member, "left the group", records);
        return new(ErrorCode.None, null, member.MemberId, -1);
    }

    /// <summary>Removes a member (leave, session expiry, fencing) and moves the group to a new epoch and target.</summary>
    private void RemoveMember(ConsumerGroup group, ConsumerGroupMember member, string reason, List<CoordinatorRecord> records)
    {
        shard.Logger.LogInformation("Member {Member} of consumer group {Group} {Reason}", member.MemberId, group.GroupId, reason);
        records.AddRange(ConsumerGroupRecordSerde.MemberTombstones(group.GroupId, member.MemberId));
        group.RemoveMember(member.MemberId);
        var subscribed = group.SubscriptionMetadata.Values.Where(t => group.IsSubscribedTo(t.Name))
            .ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (subscribed.Count != group.SubscriptionMetadata.Count)
        {
            group.SubscriptionMetadata = subscribed;
            records.Add(ConsumerGroupRecordSerde.PartitionMetadata(group));
        }
        group.GroupEpoch++;
        records.Add(ConsumerGroupRecordSerde.GroupEpoch(group.GroupId, group.GroupEpoch));
        ComputeTargetAssignment(group, records);
    }

    /// <summary>Runs the group's assignor for the group epoch and records every member target that changed.</summary>
    private void ComputeTargetAssignment(ConsumerGroup group, List<CoordinatorRecord> records)
    {
        string name = group.AssignorName(Config.ConsumerGroupAssignors[0]);
        var assignor = ConsumerGroupAssignors.ByName(name) ?? new UniformAssignor();
        var specs = group.Members.Select(m => new AssignmentMemberSpec(m.MemberId, m.RackId, group.SubscribedTopics(m).ToList(),
            group.TargetAssignment.GetValueOrDefault(m.MemberId) ?? new HashSet<TopicIdPartition>())).ToList();
        var target = assignor.Assign(specs);
        foreach (var (memberId, partitions) in target)
        {
            var old = group.TargetAssignment.GetValueOrDefault(memberId);
            if (old is not null && old.SetEquals(partitions)) continue;
            group.TargetAssignment[memberId] = partitions;
            records.Add(ConsumerGroupRecordSerde.TargetMember(group.GroupId, memberId, partitions));
        }
        group.AssignmentEpoch = group.GroupEpoch;
        records.Add(ConsumerGroupRecordSerde.TargetEpoch(group.GroupId, group.AssignmentEpoch));
        shard.Logger.LogInformation("Computed target assignment of consumer group {Group} at epoch {Epoch} with {Assignor} for {Members} members",
            group.GroupId, group.GroupEpoch, name, specs.Count);
    }

    private void Reconcile(ConsumerGroup group, ConsumerGroupMember member, IReadOnlyCollection<TopicIdPartition>? owned, List<CoordinatorRecord> records)
    {
        var target = group.TargetAssignment.GetValueOrDefault(member.MemberId) ?? new HashSet<TopicIdPartition>();
        var next = CurrentAssignmentBuilder.Reconcile(group, member, group.AssignmentEpoch, target, owned);
        if (next is null) return;
        if (next.MemberEpoch != member.MemberEpoch) member.PreviousMemberEpoch = member.MemberEpoch;
        member.MemberEpoch = next.MemberEpoch;
        member.State = next.State;
        group.SetCurrentAssignment(member, next.Assigned, next.PendingRevocation);
        records.Add(ConsumerGroupRecordSerde.CurrentAssignment(group.GroupId, member));
        member.RevocationTimer?.Dispose();
        member.RevocationTimer = null;
        if (next.State == ConsumerMemberState.UnrevokedPartitions) ScheduleRevocationTimeout(group, member);
    }

    /// <summary>A member that does not revoke within its rebalance timeout is fenced (removed), as Kafka does.</summary>
    private void ScheduleRevocationTimeout(ConsumerGroup group, ConsumerGroupMember member)
    {
        int epoch = member.MemberEpoch;
        int timeout = member.RebalanceTimeoutMs > 0 ? member.RebalanceTimeoutMs : Config.ConsumerGroupSessionTimeoutMs;
        member.RevocationTimer = shard.Schedule(TimeSpan.FromMilliseconds(timeout), () =>
        {
            if (group.Member(member.MemberId) != member || member.State != ConsumerMemberState.UnrevokedPartitions || member.MemberEpoch != epoch) return;
            var records = new List<CoordinatorRecord>();
            RemoveMember(group, member, "did not revoke its partitions within the rebalance timeout; fencing it", records);
            _ = shard.Persist(records);
        });
    }

    /// <summary>Pushes back the member's session expiry (group.consumer.session.timeout.ms).</summary>
    internal void TouchSession(ConsumerGroup group, ConsumerGroupMember member)
    {
        member.SessionTimer?.Dispose();
        member.SessionTimer = shard.Schedule(TimeSpan.FromMilliseconds(Config.ConsumerGroupSessionTimeoutMs), () =>
        {
            if (group.Member(member.MemberId) != member) return;
            var records = new List<CoordinatorRecord>();
            RemoveMember(group, member, "session expired", records);
            _ = shard.Persist(records);
        });
    }

    /// <summary>After replay: every member gets a fresh session, and unrevoked members a fresh revocation timeout.</summary>
    internal void OnLoaded(ConsumerGroup group)
    {
        foreach (var member in group.Members)
        {
            TouchSession(group, member);
            if (member.State == ConsumerMemberState.UnrevokedPartitions) ScheduleRevocationTimeout(group, member);
        }
    }

    /// <summary>
    /// OffsetCommit against a consumer group, as Kafka's ConsumerGroup.validateOffsetCommit: a commit with a negative
    /// epoch is a simple commit, allowed only while the group is empty; otherwise the member must exist
    /// (UNKNOWN_MEMBER_ID) and commit with its current epoch (STALE_MEMBER_EPOCH). As KIP-1251 relaxes it, an older
    /// epoch of the member is accepted when the member still owns every committed partition: the epoch moved on while
    /// the commit was in flight, yet no other member can have read those partitions.
    /// </summary>
    internal static ErrorCode ValidateCommit(ConsumerGroup group, int memberEpoch, string memberId, IReadOnlyList<OffsetCommitEntry> entries)
    {
        if (memberEpoch < 0 && group.IsEmpty) return ErrorCode.None;
        var member = group.Member(memberId);
        if (member is null) return ErrorCode.UnknownMemberId;
        if (memberEpoch == member.MemberEpoch) return ErrorCode.None;
        bool owned = memberEpoch >= 0 && memberEpoch < member.MemberEpoch && entries.All(e =>
            group.SubscriptionMetadata.GetValueOrDefault(e.Topic) is { } topic
            && group.Owner(new TopicIdPartition(topic.TopicId, e.Partition)) == member.MemberId);
        return owned ? ErrorCode.None : ErrorCode.StaleMemberEpoch;
    }

    /// <summary>ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for an unknown group or a group of another protocol.</summary>
    public (ErrorCode Error, string? Message, ConsumerGroupDescription? Group) Describe(string groupId)
    {
        lock (shard.Lock)
        {
            if (shard.StatusError != ErrorCode.None) return (shard.StatusError, null, null);
            if (shard.Group(groupId) is not ConsumerGroup group)
                return (ErrorCode.GroupIdNotFound, shard.Group(groupId) is null ? $"Group {groupId} not found." : $"Group {groupId} is not a consumer group.", null);
            var members = group.Members.OrderBy(m => m.MemberId, StringComparer.Ordinal).Select(m => new ConsumerGroupMemberDescription(
                m.MemberId, m.InstanceId, m.RackId, m.MemberEpoch, m.ClientId, m.ClientHost, m.SubscribedTopicNames, m.SubscribedTopicRegex,
                m.Assigned, group.TargetAssignment.GetValueOrDefault(m.MemberId) ?? new HashSet<TopicIdPartition>())).ToList();
            return (ErrorCode.None, null, new ConsumerGroupDescription(group.GroupId, group.StateName, group.GroupEpoch, group.AssignmentEpoch,
                group.AssignorName(Config.ConsumerGroupAssignors[0]), group.SubscriptionMetadata.Values.ToDictionary(t => t.TopicId, t => t.Name), members));
        }
    }

    /// <summary>The shard closes: timers stop.</summary>
    internal static void Close(ConsumerGroup group)
    {
        foreach (var member in group.Members) member.DisposeTimers();
    }
}
