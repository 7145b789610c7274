using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.OffsetDelete, MessageKind.Request, "0", "none")]
public sealed class OffsetDeleteRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public List<OffsetDeleteRequestTopic> Topics { get; set; } = [];

    public sealed class OffsetDeleteRequestTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<OffsetDeleteRequestPartition> Partitions { get; set; } = [];
    }

    public sealed class OffsetDeleteRequestPartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
    }
}

[ApiMessage(ApiKey.OffsetDelete, MessageKind.Response, "0", "none")]
public sealed class OffsetDeleteResponse
{
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<OffsetDeleteResponseTopic> Topics { get; set; } = [];

    public sealed class OffsetDeleteResponseTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<OffsetDeleteResponsePartition> Partitions { get; set; } = [];
    }

    public sealed class OffsetDeleteResponsePartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
    }
}
