using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.Envelope, MessageKind.Request, "0", "0+")]
public sealed class EnvelopeRequest
{
    [Field("0+")] public byte[] RequestData { get; set; } = [];
    [Field("0+", NullableVersions = "0+")] public byte[]? RequestPrincipal { get; set; } = [];
    [Field("0+")] public byte[] ClientHostAddress { get; set; } = [];
}

[ApiMessage(ApiKey.Envelope, MessageKind.Response, "0", "0+")]
public sealed class EnvelopeResponse
{
    [Field("0+", NullableVersions = "0+")] public byte[]? ResponseData { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
}
