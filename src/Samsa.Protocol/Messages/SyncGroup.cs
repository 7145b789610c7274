using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.SyncGroup, MessageKind.Request, "0-5", "4+")]
public sealed class SyncGroupRequest
{
    [Field("0+")] public string GroupId { get; set; } = "";
    [Field("0+")] public int GenerationId { get; set; }
    [Field("0+")] public string MemberId { get; set; } = "";
    [Field("3+", NullableVersions = "3+")] public string? GroupInstanceId { get; set; }
    [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? ProtocolType { get; set; }
    [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? ProtocolName { get; set; }
    [Field("0+")] public List<SyncGroupRequestAssignment> Assignments { get; set; } = [];

    public sealed class SyncGroupRequestAssignment
    {
        [Field("0+")] public string MemberId { get; set; } = "";
        [Field("0+")] public byte[] Assignment { get; set; } = [];
    }
}

[ApiMessage(ApiKey.SyncGroup, MessageKind.Response, "0-5", "4+")]
public sealed class SyncGroupResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? ProtocolType { get; set; }
    [Field("5+", NullableVersions = "5+", Ignorable = true)] public string? ProtocolName { get; set; }
    [Field("0+")] public byte[] Assignment { get; set; } = [];
}
