using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.LeaveGroup, MessageKind.Request, "0-5", "4+")]
public sealed class LeaveGroupRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0-2")] public string MemberId { get; set; } = "";
    [Field("3+")] public List<MemberIdentity> Members { get; set; } = [];

    public sealed class MemberIdentity
    {
        [Field("3+")] public string MemberId { get; set; } = "";
        [Field("3+", NullableVersions = "3+")] public string? GroupInstanceId { get; set; }
        [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? Reason { get; set; }
    }
}

[ApiMessage(ApiKey.LeaveGroup, MessageKind.Response, "0-5", "4+")]
public sealed class LeaveGroupResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("3+")] public List<MemberResponse> Members { get; set; } = [];

    public sealed class MemberResponse
    {
        [Field("3+")] public string MemberId { get; set; } = "";
        [Field("3+", NullableVersions = "3+")] public string? GroupInstanceId { get; set; } = "";
        [Field("3+")] public short ErrorCode { get; set; }
    }
}
