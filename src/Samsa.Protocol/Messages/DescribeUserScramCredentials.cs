using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeUserScramCredentials, MessageKind.Request, "0", "0+")]
public sealed class DescribeUserScramCredentialsRequest
{
    [Field("0+", NullableVersions = "0+")] public List<UserName>? Users { get; set; } = [];

    public sealed class UserName
    {
        [Field("0+")] public string Name { get; set; } = "";
    }
}

[ApiMessage(ApiKey.DescribeUserScramCredentials, MessageKind.Response, "0", "0+")]
public sealed class DescribeUserScramCredentialsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    [Field("0+")] public List<DescribeUserScramCredentialsResult> Results { get; set; } = [];

    public sealed class DescribeUserScramCredentialsResult
    {
        [Field("0+")] public string User { get; set; } = "";
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
        [Field("0+")] public List<CredentialInfo> CredentialInfos { get; set; } = [];
    }

    public sealed class CredentialInfo
    {
        [Field("0+")] public sbyte Mechanism { get; set; }
        [Field("0+")] public int Iterations { get; set; }
    }
}
