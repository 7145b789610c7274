using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.Produce, MessageKind.Request, "0-11", "9+")]
public sealed class ProduceRequest
{
    [Field("3+", NullableVersions = "3+")] public string? TransactionalId { get; set; }
    [Field("0+")] public short Acks { get; set; }
    [Field("0+")] public int TimeoutMs { get; set; }
    [Field("0+")] public List<TopicProduceData> TopicData { get; set; } = [];

    public sealed class TopicProduceData
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<PartitionProduceData> PartitionData { get; set; } = [];
    }

    public sealed class PartitionProduceData
    {
        [Field("0+")] public int Index { get; set; }
        [Field("0+", NullableVersions = "0+")] public ReadOnlyMemory<byte>? Records { get; set; }
    }
}

[ApiMessage(ApiKey.Produce, MessageKind.Response, "0-11", "9+")]
public sealed class ProduceResponse
{
    [Field("0+")] public List<TopicProduceResponse> Responses { get; set; } = [];
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("10+", Tag = 0, TaggedVersions = "10+")] public List<NodeEndpoint> NodeEndpoints { get; set; } = [];

    public sealed class TopicProduceResponse
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<PartitionProduceResponse> PartitionResponses { get; set; } = [];
    }

    public sealed class PartitionProduceResponse
    {
        [Field("0+")] public int Index { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public long BaseOffset { get; set; }
        [Field("2+", Ignorable = true)] public long LogAppendTimeMs { get; set; } = -1;
        [Field("5+", Ignorable = true)] public long LogStartOffset { get; set; } = -1;
        [Field("8+", Ignorable = true)] public List<BatchIndexAndErrorMessage> RecordErrors { get; set; } = [];
        [Field("8+", NullableVersions = "8+", Ignorable = true)] public string? ErrorMessage { get; set; }
        [Field("10+", Tag = 0, TaggedVersions = "10+")] public LeaderIdAndEpoch CurrentLeader { get; set; } = new();
    }

    public sealed class BatchIndexAndErrorMessage
    {
        [Field("8+")] public int BatchIndex { get; set; }
        [Field("8+", NullableVersions = "8+")] public string? BatchIndexErrorMessage { get; set; }
    }

    public sealed class LeaderIdAndEpoch
    {
        [Field("10+")] public int LeaderId { get; set; } = -1;
        [Field("10+")] public int LeaderEpoch { get; set; } = -1;
    }

    public sealed class NodeEndpoint
    {
        [Field("10+")] public int NodeId { get; set; }
        [Field("10+")] public string Host { get; set; } = "";
        [Field("10+")] public int Port { get; set; }
        [Field("10+", NullableVersions = "10+")] public string? Rack { get; set; }
    }
}
