using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.OffsetForLeaderEpoch, MessageKind.Request, "0-4", "4+")]
public sealed class OffsetForLeaderEpochRequest
{
    [Field("3+", Ignorable = true)] public int ReplicaId { get; set; } = -2;
    [Field("0+")] public List<OffsetForLeaderTopic> Topics { get; set; } = [];

    public sealed class OffsetForLeaderTopic
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<OffsetForLeaderPartition> Partitions { get; set; } = [];
    }

    public sealed class OffsetForLeaderPartition
    {
        [Field("0+")] public int Partition { get; set; }
        [Field("2+", Ignorable = true)] public int CurrentLeaderEpoch { get; set; } = -1;
        [Field("0+")] public int LeaderEpoch { get; set; }
    }
}

[ApiMessage(ApiKey.OffsetForLeaderEpoch, MessageKind.Response, "0-4", "4+")]
public sealed class OffsetForLeaderEpochResponse
{
    [Field("2+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<OffsetForLeaderTopicResult> Topics { get; set; } = [];

    public sealed class OffsetForLeaderTopicResult
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<EpochEndOffset> Partitions { get; set; } = [];
    }

    public sealed class EpochEndOffset
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public int Partition { get; set; }
        [Field("1+", Ignorable = true)] public int LeaderEpoch { get; set; } = -1;
        [Field("0+")] public long EndOffset { get; set; } = -1;
    }
}
