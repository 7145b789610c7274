using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeGroups, MessageKind.Request, "0-5", "5+")]
public sealed class DescribeGroupsRequest
{
    [Field("0+")] public List<string> Groups { get; set; } = [];
    [Field("3+")] public bool IncludeAuthorizedOperations { get; set; }
}

[ApiMessage(ApiKey.DescribeGroups, MessageKind.Response, "0-5", "5+")]
public sealed class DescribeGroupsResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DescribedGroup> Groups { get; set; } = [];

    public sealed class DescribedGroup
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public string GroupId { get; set; } = "";
        [Field("0+")] public string GroupState { get; set; } = "";
        [Field("0+")] public string ProtocolType { get; set; } = "";
        [Field("0+")] public string ProtocolData { get; set; } = "";
        [Field("0+")] public List<DescribedGroupMember> Members { get; set; } = [];
        [Field("3+")] public int AuthorizedOperations { get; set; } = int.MinValue;
    }

    public sealed class DescribedGroupMember
    {
        [Field("0+")] public string MemberId { get; set; } = "";
        [Field("4+", NullableVersions = "4+", Ignorable = true)] public string? GroupInstanceId { get; set; }
        [Field("0+")] public string ClientId { get; set; } = "";
        [Field("0+")] public string ClientHost { get; set; } = "";
        [Field("0+")] public byte[] MemberMetadata { get; set; } = [];
        [Field("0+")] public byte[] MemberAssignment { get; set; } = [];
    }
}
