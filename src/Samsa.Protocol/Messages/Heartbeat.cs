using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.Heartbeat, MessageKind.Request, "0-4", "4+")]
public sealed class HeartbeatRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public int GenerationId { get; set; }
    [Field("0+")] public string MemberId { get; set; } = "";
    [Field("3+", NullableVersions = "3+")] public string? GroupInstanceId { get; set; }
}

[ApiMessage(ApiKey.Heartbeat, MessageKind.Response, "0-4", "4+")]
public sealed class HeartbeatResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
}
