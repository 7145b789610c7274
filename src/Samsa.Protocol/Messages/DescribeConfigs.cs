using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeConfigs, MessageKind.Request, "0-4", "4+")]
public sealed class DescribeConfigsRequest
{
    [Field("0+")] public List<DescribeConfigsResource> Resources { get; set; } = [];
    [Field("1+")] public bool IncludeSynonyms { get; set; }
    [Field("3+")] public bool IncludeDocumentation { get; set; }

    public sealed class DescribeConfigsResource
    {
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public List<string>? ConfigurationKeys { get; set; } = [];
    }
}

[ApiMessage(ApiKey.DescribeConfigs, MessageKind.Response, "0-4", "4+")]
public sealed class DescribeConfigsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DescribeConfigsResult> Results { get; set; } = [];

    public sealed class DescribeConfigsResult
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
        [Field("0+")] public List<DescribeConfigsResourceResult> Configs { get; set; } = [];
    }

    public sealed class DescribeConfigsResourceResult
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? Value { get; set; } = "";
        [Field("0+")] public bool ReadOnly { get; set; }
        [Field("0")] public bool IsDefault { get; set; }
        [Field("1+", Ignorable = true)] public sbyte ConfigSource { get; set; } = -1;
        [Field("0+")] public bool IsSensitive { get; set; }
        [Field("1+", Ignorable = true)] public List<DescribeConfigsSynonym> Synonyms { get; set; } = [];
        [Field("3+", Ignorable = true)] public sbyte ConfigType { get; set; }
        [Field("3+", NullableVersions = "0+", Ignorable = true)] public string? Documentation { get; set; } = "";
    }

    public sealed class DescribeConfigsSynonym
    {
        [Field("1+")] public string Name { get; set; } = "";
        [Field("1+", NullableVersions = "0+")] public string? Value { get; set; } = "";
        [Field("1+")] public sbyte Source { get; set; }
    }
}
