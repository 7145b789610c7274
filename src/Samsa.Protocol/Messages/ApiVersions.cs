using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ApiVersions, MessageKind.Request, "0-4", "3+")]
public sealed class ApiVersionsRequest
{
    [Field("3+", Ignorable = true)] public string ClientSoftwareName { get; set; } = "";
    [Field("3+", Ignorable = true)] public string ClientSoftwareVersion { get; set; } = "";
}

[ApiMessage(ApiKey.ApiVersions, MessageKind.Response, "0-4", "3+")]
public sealed class ApiVersionsResponse
{
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+")] public List<ApiVersion> ApiKeys { get; set; } = [];
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("3+", Tag = 0, TaggedVersions = "3+", Ignorable = true)] public List<SupportedFeatureKey> SupportedFeatures { get; set; } = [];
    [Field("3+", Tag = 1, TaggedVersions = "3+", Ignorable = true)] public long FinalizedFeaturesEpoch { get; set; } = -1;
    [Field("3+", Tag = 2, TaggedVersions = "3+", Ignorable = true)] public List<FinalizedFeatureKey> FinalizedFeatures { get; set; } = [];
    [Field("3+", Tag = 3, TaggedVersions = "3+", Ignorable = true)] public bool ZkMigrationReady { get; set; }

    public sealed class ApiVersion
    {
        [Field("0+")] public short ApiKey { get; set; }
        [Field("0+")] public short MinVersion { get; set; }
        [Field("0+")] public short MaxVersion { get; set; }
    }

    public sealed class SupportedFeatureKey
    {
        [Field("3+")] public string Name { get; set; } = "";
        [Field("3+")] public short MinVersion { get; set; }
        [Field("3+")] public short MaxVersion { get; set; }
    }

    public sealed class FinalizedFeatureKey
    {
        [Field("3+")] public string Name { get; set; } = "";
        [Field("3+")] public short MaxVersionLevel { get; set; }
        [Field("3+")] public short MinVersionLevel { get; set; }
    }
}
