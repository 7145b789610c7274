using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.CreateTopics, MessageKind.Request, "0-7", "5+")]
public sealed class CreateTopicsRequest
{
    [Field("0+")] public List<CreatableTopic> Topics { get; set; } = [];
    [Field("0+", Name = "timeoutMs")] public int TimeoutMs { get; set; } = 60000;
    [Field("1+", Name = "validateOnly")] public bool ValidateOnly { get; set; }

    public sealed class CreatableTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public int NumPartitions { get; set; }
        [Field("0+")] public short ReplicationFactor { get; set; }
        [Field("0+")] public List<CreatableReplicaAssignment> Assignments { get; set; } = [];
        [Field("0+")] public List<CreatableTopicConfig> Configs { get; set; } = [];
    }

    public sealed class CreatableReplicaAssignment
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public List<int> BrokerIds { get; set; } = [];
    }

    public sealed class CreatableTopicConfig
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? Value { get; set; } = "";
    }
}

[ApiMessage(ApiKey.CreateTopics, MessageKind.Response, "0-7", "5+")]
public sealed class CreateTopicsResponse
{
    [Field("2+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<CreatableTopicResult> Topics { get; set; } = [];

    public sealed class CreatableTopicResult
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("7+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("1+", NullableVersions = "0+", Ignorable = true)] public string? ErrorMessage { get; set; } = "";
        [Field("5+", Tag = 0, TaggedVersions = "5+", Ignorable = true)] public short TopicConfigErrorCode { get; set; }
        [Field("5+", Ignorable = true)] public int NumPartitions { get; set; } = -1;
        [Field("5+", Ignorable = true)] public short ReplicationFactor { get; set; } = -1;
        [Field("5+", NullableVersions = "5+", Ignorable = true)] public List<CreatableTopicConfigs>? Configs { get; set; } = [];
    }

    public sealed class CreatableTopicConfigs
    {
        [Field("5+")] public string Name { get; set; } = "";
        [Field("5+", NullableVersions = "5+")] public string? Value { get; set; } = "";
        [Field("5+")] public bool ReadOnly { get; set; }
        [Field("5+", Ignorable = true)] public sbyte ConfigSource { get; set; } = -1;
        [Field("5+")] public bool IsSensitive { get; set; }
    }
}
