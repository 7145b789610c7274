using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DeleteTopics, MessageKind.Request, "0-6", "4+")]
public sealed class DeleteTopicsRequest
{
    [Field("6+")] public List<DeleteTopicState> Topics { get; set; } = [];
    [Field("0-5", Ignorable = true)] public List<string> TopicNames { get; set; } = [];
    [Field("0+")] public int TimeoutMs { get; set; }

    public sealed class DeleteTopicState
    {
        [Field("6+", NullableVersions = "6+")] public string? Name { get; set; }
        [Field("6+")] public Guid TopicId { get; set; }
    }
}

[ApiMessage(ApiKey.DeleteTopics, MessageKind.Response, "0-6", "4+")]
public sealed class DeleteTopicsResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DeletableTopicResult> Responses { get; set; } = [];

    public sealed class DeletableTopicResult
    {
        [Field("0+", NullableVersions = "6+")] public string? Name { get; set; } = "";
        [Field("6+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? ErrorMessage { get; set; }
    }
}
