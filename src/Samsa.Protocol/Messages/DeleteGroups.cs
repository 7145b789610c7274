using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DeleteGroups, MessageKind.Request, "0-2", "2+")]
public sealed class DeleteGroupsRequest
{
    [Field("0+")] public List<string> GroupsNames { get; set; } = [];
}

[ApiMessage(ApiKey.DeleteGroups, MessageKind.Response, "0-2", "2+")]
public sealed class DeleteGroupsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DeletableGroupResult> Results { get; set; } = [];

    public sealed class DeletableGroupResult
    {
        [Field("0+")] public string GroupId { get; set; } = "";
        [Field("0+")] public short ErrorCode { get; set; }
    }
}
