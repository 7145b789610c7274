using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

// The KIP-848 consumer group records of __consumer_offsets, as Kafka's group coordinator writes them. Each key and
// value is prefixed by an int16 written by the caller (Samsa.Broker.Groups.ConsumerGroupRecordSerde): the key prefix is
// the record type (3 = group metadata, 4 = partition metadata, 5 = member metadata, 6 = target assignment metadata,
// 7 = target assignment member, 8 = current member assignment), the value prefix the value version (0).
// Keys are not flexible; values are flexible from version 0 (unknown tagged fields of newer Kafka are skipped).

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class ConsumerGroupMetadataKey
{
    [Field("0+")] public string GroupId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "0+")]
public sealed class ConsumerGroupMetadataValue
{
    [Field("0+")] public int Epoch { get; set; }
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class ConsumerGroupPartitionMetadataKey
{
    [Field("0+")] public string GroupId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "0+")]
public sealed class ConsumerGroupPartitionMetadataValue
{
    [Field("0+")] public List<TopicMetadata> Topics { get; set; } = [];

    public sealed class TopicMetadata
    {
        [Field("0+")] public Guid TopicId { get; set; }
        [Field("0+")] public string TopicName { get; set; } = "";
        [Field("0+")] public int NumPartitions { get; set; }
        [Field("0+")] public List<PartitionMetadata> PartitionMetadata { get; set; } = [];
    }

    public sealed class PartitionMetadata
    {
        [Field("0+")] public int Partition { get; set; }
        [Field("0+")] public List<string> Racks { get; set; } = [];
    }
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class ConsumerGroupMemberMetadataKey
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public string MemberId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "0+")]
public sealed class ConsumerGroupMemberMetadataValue
{
    [Field("0+", NullableVersions = "0+")] public string? InstanceId { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? RackId { get; set; }
    [Field("0+")] public string ClientId { get; set; } = "";
    [Field("0+")] public string ClientHost { get; set; } = "";
    [Field("0+")] public List<string> SubscribedTopicNames { get; set; } = [];
    [Field("0+", NullableVersions = "0+")] public string? SubscribedTopicRegex { get; set; }
    [Field("0+")] public int RebalanceTimeoutMs { get; set; } = -1;
    [Field("0+", NullableVersions = "0+")] public string? ServerAssignor { get; set; }
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class ConsumerGroupTargetAssignmentMetadataKey
{
    [Field("0+")] public string GroupId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "0+")]
public sealed class ConsumerGroupTargetAssignmentMetadataValue
{
    [Field("0+")] public int AssignmentEpoch { get; set; }
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class ConsumerGroupTargetAssignmentMemberKey
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public string MemberId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "0+")]
public sealed class ConsumerGroupTargetAssignmentMemberValue
{
    [Field("0+")] public List<ConsumerGroupTopicPartitions> TopicPartitions { get; set; } = [];
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class ConsumerGroupCurrentMemberAssignmentKey
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public string MemberId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "0+")]
public sealed class ConsumerGroupCurrentMemberAssignmentValue
{
    [Field("0+")] public int MemberEpoch { get; set; }
    [Field("0+")] public int PreviousMemberEpoch { get; set; }

    /// <summary>0 = STABLE, 1 = UNREVOKED_PARTITIONS, 2 = UNRELEASED_PARTITIONS (Kafka's MemberState values).</summary>
    [Field("0+")] public sbyte State { get; set; }

    [Field("0+")] public List<ConsumerGroupTopicPartitions> AssignedPartitions { get; set; } = [];
    [Field("0+")] public List<ConsumerGroupTopicPartitions> PartitionsPendingRevocation { get; set; } = [];
}

/// <summary>TopicPartitions common struct of the consumer group records: a topic id and partition ids.</summary>
public sealed class ConsumerGroupTopicPartitions
{
    [Field("0+")] public Guid TopicId { get; set; }
    [Field("0+")] public List<int> Partitions { get; set; } = [];
}
