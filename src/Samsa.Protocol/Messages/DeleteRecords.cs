using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DeleteRecords, MessageKind.Request, "0-2", "2+")]
public sealed class DeleteRecordsRequest
{
    [Field("0+")] public List<DeleteRecordsTopic> Topics { get; set; } = [];
    [Field("0+")] public int TimeoutMs { get; set; }

    public sealed class DeleteRecordsTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<DeleteRecordsPartition> Partitions { get; set; } = [];
    }

    public sealed class DeleteRecordsPartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public long Offset { get; set; }
    }
}

[ApiMessage(ApiKey.DeleteRecords, MessageKind.Response, "0-2", "2+")]
public sealed class DeleteRecordsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DeleteRecordsTopicResult> Topics { get; set; } = [];

    public sealed class DeleteRecordsTopicResult
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<DeleteRecordsPartitionResult> Partitions { get; set; } = [];
    }

    public sealed class DeleteRecordsPartitionResult
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public long LowWatermark { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
    }
}
