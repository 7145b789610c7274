using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.OffsetFetch, MessageKind.Request, "0-9", "6+")]
public sealed class OffsetFetchRequest
{
    [Field("0-7")] public string GroupId { get; set; } = "";
    [Field("0-7", NullableVersions = "2-7")] public List<OffsetFetchRequestTopic>? Topics { get; set; } = [];
    [Field("8+")] public List<OffsetFetchRequestGroup> Groups { get; set; } = [];
    [Field("7+")] public bool RequireStable { get; set; }

    public sealed class OffsetFetchRequestTopic
    {
        [Field("0-7")] public string Name { get; set; } = "";
        [Field("0-7")] public List<int> PartitionIndexes { get; set; } = [];
    }

    public sealed class OffsetFetchRequestGroup
    {
        [Field("8+")] public string GroupId { get; set; } = "";
        [Field("9+", NullableVersions = "9+", Ignorable = true)] public string? MemberId { get; set; }
        [Field("9+", Ignorable = true)] public int MemberEpoch { get; set; } = -1;
        [Field("8+", NullableVersions = "8+")] public List<OffsetFetchRequestTopics>? Topics { get; set; } = [];
    }

    public sealed class OffsetFetchRequestTopics
    {
        [Field("8+")] public string Name { get; set; } = "";
        [Field("8+")] public List<int> PartitionIndexes { get; set; } = [];
    }
}

[ApiMessage(ApiKey.OffsetFetch, MessageKind.Response, "0-9", "6+")]
public sealed class OffsetFetchResponse
{
    [Field("3+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0-7")] public List<OffsetFetchResponseTopic> Topics { get; set; } = [];
    [Field("2-7", Ignorable = true)] public short ErrorCode { get; set; }
    [Field("8+")] public List<OffsetFetchResponseGroup> Groups { get; set; } = [];

    public sealed class OffsetFetchResponseTopic
    {
        [Field("0-7")] public string Name { get; set; } = "";
        [Field("0-7")] public List<OffsetFetchResponsePartition> Partitions { get; set; } = [];
    }

    public sealed class OffsetFetchResponsePartition
    {
        [Field("0-7")] public int PartitionIndex { get; set; }
        [Field("0-7")] public long CommittedOffset { get; set; }
        [Field("5-7", Ignorable = true)] public int CommittedLeaderEpoch { get; set; } = -1;
        [Field("0-7", NullableVersions = "0-7")] public string? Metadata { get; set; } = "";
        [Field("0-7")] public short ErrorCode { get; set; }
    }

    public sealed class OffsetFetchResponseGroup
    {
        [Field("8+")] public string GroupId { get; set; } = "";
        [Field("8+")] public List<OffsetFetchResponseTopics> Topics { get; set; } = [];
        [Field("8+")] public short ErrorCode { get; set; }
    }

    public sealed class OffsetFetchResponseTopics
    {
        [Field("8+")] public string Name { get; set; } = "";
        [Field("8+")] public List<OffsetFetchResponsePartitions> Partitions { get; set; } = [];
    }

    public sealed class OffsetFetchResponsePartitions
    {
        [Field("8+")] public int PartitionIndex { get; set; }
        [Field("8+")] public long CommittedOffset { get; set; }
        [Field("8+", Ignorable = true)] public int CommittedLeaderEpoch { get; set; } = -1;
        [Field("8+", NullableVersions = "8+")] public string? Metadata { get; set; } = "";
        [Field("8+")] public short ErrorCode { get; set; }
    }
}
