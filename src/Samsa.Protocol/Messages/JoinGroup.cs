using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.JoinGroup, MessageKind.Request, "0-9", "6+")]
public sealed class JoinGroupRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public int SessionTimeoutMs { get; set; }
    [Field("1+", Ignorable = true)] public int RebalanceTimeoutMs { get; set; } = -1;
    [Field("0+")] public string MemberId { get; set; } = "";
    [Field("5+", NullableVersions = "5+")] public string? GroupInstanceId { get; set; }
    [Field("0+")] public string ProtocolType { get; set; } = "";
    [Field("0+")] public List<JoinGroupRequestProtocol> Protocols { get; set; } = [];
    [Field("8+", NullableVersions = "8+", Ignorable = true)] public string? Reason { get; set; }

    public sealed class JoinGroupRequestProtocol
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public byte[] Metadata { get; set; } = [];
    }
}

[ApiMessage(ApiKey.JoinGroup, MessageKind.Response, "0-9", "6+")]
public sealed class JoinGroupResponse
{
    [Field("2+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+")] public int GenerationId { get; set; } = -1;
    [Field("7+", NullableVersions = "7+", Ignorable = true)] public string? ProtocolType { get; set; }
    [Field("0+", NullableVersions = "7+")] public string? ProtocolName { get; set; } = "";
    [Field("0+")] public string Leader { get; set; } = "";
    [Field("9+")] public bool SkipAssignment { get; set; }
    [Field("0+")] public string MemberId { get; set; } = "";
    [Field("0+")] public List<JoinGroupResponseMember> Members { get; set; } = [];

    public sealed class JoinGroupResponseMember
    {
        [Field("0+")] public string MemberId { get; set; } = "";
        [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? GroupInstanceId { get; set; }
        [Field("0+")] public byte[] Metadata { get; set; } = [];
    }
}
