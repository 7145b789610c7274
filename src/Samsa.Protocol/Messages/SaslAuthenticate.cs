using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.SaslAuthenticate, MessageKind.Request, "0-2", "2+")]
public sealed class SaslAuthenticateRequest
{
    [Field("0+")] public byte[] AuthBytes { get; set; } = [];
}

[ApiMessage(ApiKey.SaslAuthenticate, MessageKind.Response, "0-2", "2+")]
public sealed class SaslAuthenticateResponse
{
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    [Field("0+")] public byte[] AuthBytes { get; set; } = [];
    [Field("1+", Ignorable = true)] public long SessionLifetimeMs { get; set; }
}
