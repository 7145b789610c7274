using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.AlterPartitionReassignments, MessageKind.Request, "0", "0+")]
public sealed class AlterPartitionReassignmentsRequest
{
    [Field("0+")] public int TimeoutMs { get; set; } = 60000;
    [Field("0+")] public List<ReassignableTopic> Topics { get; set; } = [];

    public sealed class ReassignableTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<ReassignablePartition> Partitions { get; set; } = [];
    }

    public sealed class ReassignablePartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+", NullableVersions = "0+")] public List<int>? Replicas { get; set; }
    }
}

[ApiMessage(ApiKey.AlterPartitionReassignments, MessageKind.Response, "0", "0+")]
public sealed class AlterPartitionReassignmentsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    [Field("0+")] public List<ReassignableTopicResponse> Responses { get; set; } = [];

    public sealed class ReassignableTopicResponse
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<ReassignablePartitionResponse> Partitions { get; set; } = [];
    }

    public sealed class ReassignablePartitionResponse
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    }
}
