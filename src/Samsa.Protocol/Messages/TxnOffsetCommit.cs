using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.TxnOffsetCommit, MessageKind.Request, "0-4", "3+")]
public sealed class TxnOffsetCommitRequest
{
    [Field("0+")] public string TransactionalId { get; set; } = "";
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public long ProducerId { get; set; }
    [Field("0+")] public short ProducerEpoch { get; set; }
    [Field("3+")] public int GenerationId { get; set; } = -1;
    [Field("3+")] public string MemberId { get; set; } = "";
    [Field("3+", NullableVersions = "3+")] public string? GroupInstanceId { get; set; }
    [Field("0+")] public List<TxnOffsetCommitRequestTopic> Topics { get; set; } = [];

    public sealed class TxnOffsetCommitRequestTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<TxnOffsetCommitRequestPartition> Partitions { get; set; } = [];
    }

    public sealed class TxnOffsetCommitRequestPartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public long CommittedOffset { get; set; }
        [Field("2+", Ignorable = true)] public int CommittedLeaderEpoch { get; set; } = -1;
        [Field("0+", NullableVersions = "0+")] public string? CommittedMetadata { get; set; } = "";
    }
}

[ApiMessage(ApiKey.TxnOffsetCommit, MessageKind.Response, "0-4", "3+")]
public sealed class TxnOffsetCommitResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<TxnOffsetCommitResponseTopic> Topics { get; set; } = [];

    public sealed class TxnOffsetCommitResponseTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<TxnOffsetCommitResponsePartition> Partitions { get; set; } = [];
    }

    public sealed class TxnOffsetCommitResponsePartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
    }
}
