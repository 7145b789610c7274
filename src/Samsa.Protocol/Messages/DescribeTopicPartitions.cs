using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeTopicPartitions, MessageKind.Request, "0", "0+")]
public sealed class DescribeTopicPartitionsRequest
{
    [Field("0+")] public List<TopicRequest> Topics { get; set; } = [];
    [Field("0+")] public int ResponsePartitionLimit { get; set; } = 2000;
    [Field("0+", NullableVersions = "0+")] public CursorData? Cursor { get; set; }

    public sealed class TopicRequest
    {
        [Field("0+")] public string Name { get; set; } = "";
    }

    public sealed class CursorData
    {
        [Field("0+")] public string TopicName { get; set; } = "";
        [Field("0+")] public int PartitionIndex { get; set; }
    }
}

[ApiMessage(ApiKey.DescribeTopicPartitions, MessageKind.Response, "0", "0+")]
public sealed class DescribeTopicPartitionsResponse
{
    [Field("0+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DescribeTopicPartitionsResponseTopic> Topics { get; set; } = [];
    [Field("0+", NullableVersions = "0+")] public Cursor? NextCursor { get; set; }

    public sealed class DescribeTopicPartitionsResponseTopic
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? Name { get; set; } = "";
        [Field("0+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("0+", Ignorable = true)] public bool IsInternal { get; set; }
        [Field("0+")] public List<DescribeTopicPartitionsResponsePartition> Partitions { get; set; } = [];
        [Field("0+")] public int TopicAuthorizedOperations { get; set; } = int.MinValue;
    }

    public sealed class DescribeTopicPartitionsResponsePartition
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public int LeaderId { get; set; }
        [Field("0+", Ignorable = true)] public int LeaderEpoch { get; set; } = -1;
        [Field("0+")] public List<int> ReplicaNodes { get; set; } = [];
        [Field("0+")] public List<int> IsrNodes { get; set; } = [];
        [Field("0+", NullableVersions = "0+")] public List<int>? EligibleLeaderReplicas { get; set; }
        [Field("0+", NullableVersions = "0+")] public List<int>? LastKnownElr { get; set; }
        [Field("0+", Ignorable = true)] public List<int> OfflineReplicas { get; set; } = [];
    }

    public sealed class Cursor
    {
        [Field("0+")] public string TopicName { get; set; } = "";
        [Field("0+")] public int PartitionIndex { get; set; }
    }
}
