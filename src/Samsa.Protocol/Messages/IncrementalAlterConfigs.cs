using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.IncrementalAlterConfigs, MessageKind.Request, "0-1", "1+")]
public sealed class IncrementalAlterConfigsRequest
{
    [Field("0+")] public List<AlterConfigsResource> Resources { get; set; } = [];
    [Field("0+")] public bool ValidateOnly { get; set; }

    public sealed class AlterConfigsResource
    {
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
        [Field("0+")] public List<AlterableConfig> Configs { get; set; } = [];
    }

    public sealed class AlterableConfig
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public sbyte ConfigOperation { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? Value { get; set; } = "";
    }
}

[ApiMessage(ApiKey.IncrementalAlterConfigs, MessageKind.Response, "0-1", "1+")]
public sealed class IncrementalAlterConfigsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<AlterConfigsResourceResponse> Responses { get; set; } = [];

    public sealed class AlterConfigsResourceResponse
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
    }
}
