using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ElectLeaders, MessageKind.Request, "0-2", "2+")]
public sealed class ElectLeadersRequest
{
    [Field("1+")] public sbyte ElectionType { get; set; }
    [Field("0+", NullableVersions = "0+")] public List<TopicPartitionsData>? TopicPartitions { get; set; } = [];
    [Field("0+")] public int TimeoutMs { get; set; } = 60000;

    public sealed class TopicPartitionsData
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}

[ApiMessage(ApiKey.ElectLeaders, MessageKind.Response, "0-2", "2+")]
public sealed class ElectLeadersResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("1+")] public short ErrorCode { get; set; }
    [Field("0+")] public List<ReplicaElectionResult> ReplicaElectionResults { get; set; } = [];

    public sealed class ReplicaElectionResult
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<PartitionResult> PartitionResult { get; set; } = [];
    }

    public sealed class PartitionResult
    {
        [Field("0+")] public int PartitionId { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    }
}
