using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.Metadata, MessageKind.Request, "0-12", "9+")]
public sealed class MetadataRequest
{
    [Field("0+", NullableVersions = "1+")] public List<MetadataRequestTopic>? Topics { get; set; } = [];
    [Field("4+")] public bool AllowAutoTopicCreation { get; set; } = true;
    [Field("8-10")] public bool IncludeClusterAuthorizedOperations { get; set; }
    [Field("8+")] public bool IncludeTopicAuthorizedOperations { get; set; }

    public sealed class MetadataRequestTopic
    {
        [Field("10+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("0+", NullableVersions = "10+")] public string? Name { get; set; } = "";
    }
}

[ApiMessage(ApiKey.Metadata, MessageKind.Response, "0-12", "9+")]
public sealed class MetadataResponse
{
    [Field("3+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<MetadataResponseBroker> Brokers { get; set; } = [];
    [Field("2+", NullableVersions = "2+", Ignorable = true)] public string? ClusterId { get; set; }
    [Field("1+", Ignorable = true)] public int ControllerId { get; set; } = -1;
    [Field("0+")] public List<MetadataResponseTopic> Topics { get; set; } = [];
    [Field("8-10")] public int ClusterAuthorizedOperations { get; set; } = int.MinValue;

    public sealed class MetadataResponseBroker
    {
        [Field("0+")] public int NodeId { get; set; }
        [Field("0+")] public string Host { get; set; } = "";
        [Field("0+")] public int Port { get; set; }
        [Field("1+", NullableVersions = "1+", Ignorable = true)] public string? Rack { get; set; }
    }

    public sealed class MetadataResponseTopic
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "12+")] public string? Name { get; set; } = "";
        [Field("10+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("1+", Ignorable = true)] public bool IsInternal { get; set; }
        [Field("0+")] public List<MetadataResponsePartition> Partitions { get; set; } = [];
        [Field("8+")] public int TopicAuthorizedOperations { get; set; } = int.MinValue;
    }

    public sealed class MetadataResponsePartition
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public int LeaderId { get; set; }
        [Field("7+", Ignorable = true)] public int LeaderEpoch { get; set; } = -1;
        [Field("0+")] public List<int> ReplicaNodes { get; set; } = [];
        [Field("0+")] public List<int> IsrNodes { get; set; } = [];
        [Field("5+", Ignorable = true)] public List<int> OfflineReplicas { get; set; } = [];
    }
}
