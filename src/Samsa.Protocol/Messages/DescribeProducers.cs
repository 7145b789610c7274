using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeProducers, MessageKind.Request, "0", "0+")]
public sealed class DescribeProducersRequest
{
    [Field("0+")] public List<TopicRequest> Topics { get; set; } = [];

    public sealed class TopicRequest
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<int> PartitionIndexes { get; set; } = [];
    }
}

[ApiMessage(ApiKey.DescribeProducers, MessageKind.Response, "0", "0+")]
public sealed class DescribeProducersResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<TopicResponse> Topics { get; set; } = [];

    public sealed class TopicResponse
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<PartitionResponse> Partitions { get; set; } = [];
    }

    public sealed class PartitionResponse
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; }
        [Field("0+")] public List<ProducerState> ActiveProducers { get; set; } = [];
    }

    public sealed class ProducerState
    {
        [Field("0+")] public long ProducerId { get; set; }
        [Field("0+")] public int ProducerEpoch { get; set; }
        [Field("0+")] public int LastSequence { get; set; } = -1;
        [Field("0+")] public long LastTimestamp { get; set; } = -1;
        [Field("0+")] public int CoordinatorEpoch { get; set; }
        [Field("0+")] public long CurrentTxnStartOffset { get; set; } = -1;
    }
}
