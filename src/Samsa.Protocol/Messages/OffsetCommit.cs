using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.OffsetCommit, MessageKind.Request, "0-9", "8+")]
public sealed class OffsetCommitRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("1+", Ignorable = true)] public int GenerationIdOrMemberEpoch { get; set; } = -1;
    [Field("1+", Ignorable = true)] public string MemberId { get; set; } = "";
    [Field("7+", NullableVersions = "7+")] public string? GroupInstanceId { get; set; }
    [Field("2-4", Ignorable = true)] public long RetentionTimeMs { get; set; } = -1;
    [Field("0+")] public List<OffsetCommitRequestTopic> Topics { get; set; } = [];

    public sealed class OffsetCommitRequestTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<OffsetCommitRequestPartition> Partitions { get; set; } = [];
    }

    public sealed class OffsetCommitRequestPartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public long CommittedOffset { get; set; }
        [Field("6+", Ignorable = true)] public int CommittedLeaderEpoch { get; set; } = -1;
        [Field("1")] public long CommitTimestamp { get; set; } = -1;
        [Field("0+", NullableVersions = "0+")] public string? CommittedMetadata { get; set; } = "";
    }
}

[ApiMessage(ApiKey.OffsetCommit, MessageKind.Response, "0-9", "8+")]
public sealed class OffsetCommitResponse
{
    [Field("3+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<OffsetCommitResponseTopic> Topics { get; set; } = [];

    public sealed class OffsetCommitResponseTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<OffsetCommitResponsePartition> Partitions { get; set; } = [];
    }

    public sealed class OffsetCommitResponsePartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
    }
}
