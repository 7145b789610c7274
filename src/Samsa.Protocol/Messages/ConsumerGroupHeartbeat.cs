using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ConsumerGroupHeartbeat, MessageKind.Request, "0-1", "0+")]
public sealed class ConsumerGroupHeartbeatRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public string MemberId { get; set; } = "";
    [Field("0+")] public int MemberEpoch { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? InstanceId { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? RackId { get; set; }
    [Field("0+")] public int RebalanceTimeoutMs { get; set; } = -1;
    [Field("0+", NullableVersions = "0+")] public List<string>? SubscribedTopicNames { get; set; }
    [Field("1+", NullableVersions = "1+")] public string? SubscribedTopicRegex { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ServerAssignor { get; set; }
    [Field("0+", NullableVersions = "0+")] public List<TopicPartitionsData>? TopicPartitions { get; set; }

    public sealed class TopicPartitionsData
    {
        [Field("0+")] public Guid TopicId { get; set; }
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}

[ApiMessage(ApiKey.ConsumerGroupHeartbeat, MessageKind.Response, "0-1", "0+")]
public sealed class ConsumerGroupHeartbeatResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? MemberId { get; set; }
    [Field("0+")] public int MemberEpoch { get; set; }
    [Field("0+")] public int HeartbeatIntervalMs { get; set; }
    [Field("0+", NullableVersions = "0+")] public AssignmentData? Assignment { get; set; }

    public sealed class AssignmentData
    {
        [Field("0+")] public List<TopicPartitions> TopicPartitions { get; set; } = [];
    }

    public sealed class TopicPartitions
    {
        [Field("0+")] public Guid TopicId { get; set; }
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}
