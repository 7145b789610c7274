using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.WriteTxnMarkers, MessageKind.Request, "0-1", "1+")]
public sealed class WriteTxnMarkersRequest
{
    [Field("0+")] public List<WritableTxnMarker> Markers { get; set; } = [];

    public sealed class WritableTxnMarker
    {
        [Field("0+")] public long ProducerId { get; set; }
        [Field("0+")] public short ProducerEpoch { get; set; }
        [Field("0+")] public bool TransactionResult { get; set; }
        [Field("0+")] public List<WritableTxnMarkerTopic> Topics { get; set; } = [];
        [Field("0+")] public int CoordinatorEpoch { get; set; }
    }

    public sealed class WritableTxnMarkerTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<int> PartitionIndexes { get; set; } = [];
    }
}

[ApiMessage(ApiKey.WriteTxnMarkers, MessageKind.Response, "0-1", "1+")]
public sealed class WriteTxnMarkersResponse
{
    [Field("0+")] public List<WritableTxnMarkerResult> Markers { get; set; } = [];

    public sealed class WritableTxnMarkerResult
    {
        [Field("0+")] public long ProducerId { get; set; }
        [Field("0+")] public List<WritableTxnMarkerTopicResult> Topics { get; set; } = [];
    }

    public sealed class WritableTxnMarkerTopicResult
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<WritableTxnMarkerPartitionResult> Partitions { get; set; } = [];
    }

    public sealed class WritableTxnMarkerPartitionResult
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
    }
}
