using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.SaslHandshake, MessageKind.Request, "0-1", "none")]
public sealed class SaslHandshakeRequest
{
    [Field("0+")] public string Mechanism { get; set; } = "";
}

[ApiMessage(ApiKey.SaslHandshake, MessageKind.Response, "0-1", "none")]
public sealed class SaslHandshakeResponse
{
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+")] public List<string> Mechanisms { get; set; } = [];
}
