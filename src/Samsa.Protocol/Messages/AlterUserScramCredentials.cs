using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.AlterUserScramCredentials, MessageKind.Request, "0", "0+")]
public sealed class AlterUserScramCredentialsRequest
{
    [Field("0+")] public List<ScramCredentialDeletion> Deletions { get; set; } = [];
    [Field("0+")] public List<ScramCredentialUpsertion> Upsertions { get; set; } = [];

    public sealed class ScramCredentialDeletion
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public sbyte Mechanism { get; set; }
    }

    public sealed class ScramCredentialUpsertion
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public sbyte Mechanism { get; set; }
        [Field("0+")] public int Iterations { get; set; }
        [Field("0+")] public byte[] Salt { get; set; } = [];
        [Field("0+")] public byte[] SaltedPassword { get; set; } = [];
    }
}

[ApiMessage(ApiKey.AlterUserScramCredentials, MessageKind.Response, "0", "0+")]
public sealed class AlterUserScramCredentialsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<AlterUserScramCredentialsResult> Results { get; set; } = [];

    public sealed class AlterUserScramCredentialsResult
    {
        [Field("0+")] public string User { get; set; } = "";
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    }
}
