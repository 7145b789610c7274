using System.Buffers;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Groups;

/// <summary>
/// The KIP-848 records of __consumer_offsets in Kafka's format: an int16 record type as key prefix (3 group epoch,
/// 4 subscription metadata, 5 member metadata, 6 target assignment epoch, 7 member target assignment, 8 member current
/// assignment), an int16 value version (0) as value prefix, then the schema body. A null value is a tombstone.
/// </summary>
public static class ConsumerGroupRecordSerde
{
    public const short GroupMetadataType = 3;
    public const short PartitionMetadataType = 4;
    public const short MemberMetadataType = 5;
    public const short TargetMetadataType = 6;
    public const short TargetMemberType = 7;
    public const short CurrentAssignmentType = 8;

    public static CoordinatorRecord GroupEpoch(string groupId, int epoch) =>
        new(Key(GroupMetadataType, new ConsumerGroupMetadataKey { GroupId = groupId }), Value(new ConsumerGroupMetadataValue { Epoch = epoch }));

    public static CoordinatorRecord PartitionMetadata(ConsumerGroup group) =>
        new(Key(PartitionMetadataType, new ConsumerGroupPartitionMetadataKey { GroupId = group.GroupId }), Value(new ConsumerGroupPartitionMetadataValue
        {
            Topics = group.SubscriptionMetadata.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t =>
                new ConsumerGroupPartitionMetadataValue.TopicMetadata { TopicId = t.TopicId, TopicName = t.Name, NumPartitions = t.NumPartitions }).ToList(),
        }));

    public static CoordinatorRecord MemberMetadata(string groupId, ConsumerGroupMember m) =>
        new(Key(MemberMetadataType, new ConsumerGroupMemberMetadataKey { GroupId = groupId, MemberId = m.MemberId }), Value(new ConsumerGroupMemberMetadataValue
        {
            InstanceId = m.InstanceId,
            RackId = m.RackId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            SubscribedTopicNames = [.. m.SubscribedTopicNames],
            SubscribedTopicRegex = m.SubscribedTopicRegex,
            RebalanceTimeoutMs = m.RebalanceTimeoutMs,
            ServerAssignor = m.ServerAssignor,
        }));

    public static CoordinatorRecord TargetEpoch(string groupId, int epoch) =>
        new(Key(TargetMetadataType, new ConsumerGroupTargetAssignmentMetadataKey { GroupId = groupId }),
            Value(new ConsumerGroupTargetAssignmentMetadataValue { AssignmentEpoch = epoch }));

    public static CoordinatorRecord TargetMember(string groupId, string memberId, IReadOnlySet<TopicIdPartition>? target) =>
        new(Key(TargetMemberType, new ConsumerGroupTargetAssignmentMemberKey { GroupId = groupId, MemberId = memberId }),
            target is null ? null : Value(new ConsumerGroupTargetAssignmentMemberValue { TopicPartitions = ToWire(target) }));

    public static CoordinatorRecord CurrentAssignment(string groupId, ConsumerGroupMember m) =>
        new(Key(CurrentAssignmentType, new ConsumerGroupCurrentMemberAssignmentKey { GroupId = groupId, MemberId = m.MemberId }), Value(new ConsumerGroupCurrentMemberAssignmentValue
        {
            MemberEpoch = m.MemberEpoch,
            PreviousMemberEpoch = m.PreviousMemberEpoch,
            State = (sbyte)m.State,
            AssignedPartitions = ToWire(m.Assigned),
            PartitionsPendingRevocation = ToWire(m.PendingRevocation),
        }));

    /// <summary>Tombstones removing a member, in Kafka's order: current assignment, target assignment, metadata.</summary>
    public static IEnumerable<CoordinatorRecord> MemberTombstones(string groupId, string memberId) =>
    [
        new(Key(CurrentAssignmentType, new ConsumerGroupCurrentMemberAssignmentKey { GroupId = groupId, MemberId = memberId }), null),
        new(Key(TargetMemberType, new ConsumerGroupTargetAssignmentMemberKey { GroupId = groupId, MemberId = memberId }), null),
        new(Key(MemberMetadataType, new ConsumerGroupMemberMetadataKey { GroupId = groupId, MemberId = memberId }), null),
    ];

    /// <summary>Tombstones deleting an empty group: target epoch, subscription metadata, group epoch.</summary>
    public static IEnumerable<CoordinatorRecord> GroupTombstones(string groupId) =>
    [
        new(Key(TargetMetadataType, new ConsumerGroupTargetAssignmentMetadataKey { GroupId = groupId }), null),
        new(Key(PartitionMetadataType, new ConsumerGroupPartitionMetadataKey { GroupId = groupId }), null),
        new(Key(GroupMetadataType, new ConsumerGroupMetadataKey { GroupId = groupId }), null),
    ];

    public static List<ConsumerGroupTopicPartitions> ToWire(IEnumerable<TopicIdPartition> partitions) =>
        partitions.GroupBy(p => p.TopicId).OrderBy(g => g.Key)
            .Select(g => new ConsumerGroupTopicPartitions { TopicId = g.Key, Partitions = g.Select(p => p.Partition).Order().ToList() }).ToList();

    public static HashSet<TopicIdPartition> FromWire(IEnumerable<ConsumerGroupTopicPartitions> topics) =>
        topics.SelectMany(t => t.Partitions.Select(p => new TopicIdPartition(t.TopicId, p))).ToHashSet();

    /// <summary>The record type of a key (its int16 prefix).</summary>
    public static short KeyType(byte[] key) => key.Length < 2 ? (short)-1 : (short)((key[0] << 8) | key[1]);

    public static T ReadKey<T>(byte[] key) where T : class, new() => MessageCodec.Read<T>(new KafkaReader(key.AsMemory(2)), 0);

    public static T ReadValue<T>(byte[] value) where T : class, new() => MessageCodec.Read<T>(new KafkaReader(value.AsMemory(2)), 0);

    private static byte[] Key<T>(short type, T body) where T : class => Encode(type, body);

    private static byte[] Value<T>(T body) where T : class => Encode(0, body);

    private static byte[] Encode<T>(short prefix, T body) where T : class
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(prefix);
        MessageCodec.Write(writer, body, 0);
        return buffer.WrittenSpan.ToArray();
    }
}
