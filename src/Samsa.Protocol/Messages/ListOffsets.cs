using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ListOffsets, MessageKind.Request, "0-10", "6+")]
public sealed class ListOffsetsRequest
{
    [Field("0+")] public int ReplicaId { get; set; }
    [Field("2+")] public sbyte IsolationLevel { get; set; }
    [Field("0+")] public List<ListOffsetsTopic> Topics { get; set; } = [];
    [Field("10+", Ignorable = true)] public int TimeoutMs { get; set; }

    public sealed class ListOffsetsTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<ListOffsetsPartition> Partitions { get; set; } = [];
    }

    public sealed class ListOffsetsPartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("4+", Ignorable = true)] public int CurrentLeaderEpoch { get; set; } = -1;
        [Field("0+")] public long Timestamp { get; set; }
        [Field("0")] public int MaxNumOffsets { get; set; } = 1;
    }
}

[ApiMessage(ApiKey.ListOffsets, MessageKind.Response, "0-10", "6+")]
public sealed class ListOffsetsResponse
{
    [Field("2+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<ListOffsetsTopicResponse> Topics { get; set; } = [];

    public sealed class ListOffsetsTopicResponse
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<ListOffsetsPartitionResponse> Partitions { get; set; } = [];
    }

    public sealed class ListOffsetsPartitionResponse
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0")] public List<long> OldStyleOffsets { get; set; } = [];
        [Field("1+")] public long Timestamp { get; set; } = -1;
        [Field("1+")] public long Offset { get; set; } = -1;
        [Field("4+")] public int LeaderEpoch { get; set; } = -1;
    }
}
