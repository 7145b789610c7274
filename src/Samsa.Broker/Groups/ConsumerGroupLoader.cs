using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// Rebuilds consumer groups by replaying their records in log order, as Kafka's GroupMetadataManager.replay does:
/// the last record of each key wins and tombstones remove. A member record arriving before its member creates it.
/// Used by the shard's load only (single-threaded, before the shard serves).
/// </summary>
public sealed class ConsumerGroupLoader
{
    private readonly Dictionary<string, ConsumerGroup> _groups = new(StringComparer.Ordinal);

    public IEnumerable<ConsumerGroup> Groups => _groups.Values;

    /// <summary>Applies a KIP-848 record; false when the record is of another type.</summary>
    public bool TryApply(CoordinatorRecord record)
    {
        switch (ConsumerGroupRecordSerde.KeyType(record.Key))
        {
            case ConsumerGroupRecordSerde.GroupMetadataType:
            {
                var key = ConsumerGroupRecordSerde.ReadKey<ConsumerGroupMetadataKey>(record.Key);
                if (record.Value is null) _groups.Remove(key.GroupId);
                else Group(key.GroupId).GroupEpoch = ConsumerGroupRecordSerde.ReadValue<ConsumerGroupMetadataValue>(record.Value).Epoch;
                return true;
            }
            case ConsumerGroupRecordSerde.PartitionMetadataType:
            {
                var key = ConsumerGroupRecordSerde.ReadKey<ConsumerGroupPartitionMetadataKey>(record.Key);
                var topics = record.Value is null ? [] : ConsumerGroupRecordSerde.ReadValue<ConsumerGroupPartitionMetadataValue>(record.Value).Topics;
                if (record.Value is not null || _groups.ContainsKey(key.GroupId))
                    Group(key.GroupId).SubscriptionMetadata = topics.ToDictionary(t => t.TopicName,
                        t => new ConsumerGroupTopic(t.TopicId, t.TopicName, t.NumPartitions), StringComparer.Ordinal);
                return true;
            }
            case ConsumerGroupRecordSerde.MemberMetadataType:
                ApplyMemberMetadata(record);
                return true;
            case ConsumerGroupRecordSerde.TargetMetadataType:
            {
                var key = ConsumerGroupRecordSerde.ReadKey<ConsumerGroupTargetAssignmentMetadataKey>(record.Key);
                if (record.Value is not null)
                    Group(key.GroupId).AssignmentEpoch = ConsumerGroupRecordSerde.ReadValue<ConsumerGroupTargetAssignmentMetadataValue>(record.Value).AssignmentEpoch;
                return true;
            }
            case ConsumerGroupRecordSerde.TargetMemberType:
            {
                var key = ConsumerGroupRecordSerde.ReadKey<ConsumerGroupTargetAssignmentMemberKey>(record.Key);
                if (record.Value is null) _groups.GetValueOrDefault(key.GroupId)?.TargetAssignment.Remove(key.MemberId);
                else Group(key.GroupId).TargetAssignment[key.MemberId] = ConsumerGroupRecordSerde.FromWire(
                    ConsumerGroupRecordSerde.ReadValue<ConsumerGroupTargetAssignmentMemberValue>(record.Value).TopicPartitions);
                return true;
            }
            case ConsumerGroupRecordSerde.CurrentAssignmentType:
                ApplyCurrentAssignment(record);
                return true;
            default:
                return false;
        }
    }

    private void ApplyMemberMetadata(CoordinatorRecord record)
    {
        var key = ConsumerGroupRecordSerde.ReadKey<ConsumerGroupMemberMetadataKey>(record.Key);
        if (record.Value is null)
        {
            _groups.GetValueOrDefault(key.GroupId)?.RemoveMember(key.MemberId);
            return;
        }
        var v = ConsumerGroupRecordSerde.ReadValue<ConsumerGroupMemberMetadataValue>(record.Value);
        var group = Group(key.GroupId);
        var member = MemberOf(group, key.MemberId);
        group.SetInstanceId(member, v.InstanceId);
        member.RackId = v.RackId;
        member.ClientId = v.ClientId;
        member.ClientHost = v.ClientHost;
        member.SubscribedTopicNames = v.SubscribedTopicNames;
        member.SubscribedTopicRegex = v.SubscribedTopicRegex;
        member.RebalanceTimeoutMs = v.RebalanceTimeoutMs;
        member.ServerAssignor = v.ServerAssignor;
    }

    private void ApplyCurrentAssignment(CoordinatorRecord record)
    {
        var key = ConsumerGroupRecordSerde.ReadKey<ConsumerGroupCurrentMemberAssignmentKey>(record.Key);
        if (record.Value is null)
        {
            if (_groups.GetValueOrDefault(key.GroupId)?.Member(key.MemberId) is { } gone && _groups[key.GroupId] is var g)
                g.SetCurrentAssignment(gone, new HashSet<TopicIdPartition>(), new HashSet<TopicIdPartition>(), replaying: true);
            return;
        }
        var v = ConsumerGroupRecordSerde.ReadValue<ConsumerGroupCurrentMemberAssignmentValue>(record.Value);
        var group = Group(key.GroupId);
        var member = MemberOf(group, key.MemberId);
        member.MemberEpoch = v.MemberEpoch;
        member.PreviousMemberEpoch = v.PreviousMemberEpoch;
        member.State = Enum.IsDefined((ConsumerMemberState)v.State) ? (ConsumerMemberState)v.State : ConsumerMemberState.Stable;
        group.SetCurrentAssignment(member, ConsumerGroupRecordSerde.FromWire(v.AssignedPartitions),
            ConsumerGroupRecordSerde.FromWire(v.PartitionsPendingRevocation), replaying: true);
    }

    private ConsumerGroup Group(string groupId)
    {
        if (!_groups.TryGetValue(groupId, out var group)) _groups[groupId] = group = new ConsumerGroup(groupId);
        return group;
    }

    private static ConsumerGroupMember MemberOf(ConsumerGroup group, string memberId)
    {
        var member = group.Member(memberId);
        if (member is not null) return member;
        member = new ConsumerGroupMember(memberId);
        group.AddMember(member);
        return member;
    }
}
