using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ListGroups, MessageKind.Request, "0-5", "3+")]
public sealed class ListGroupsRequest
{
    [Field("4+")] public List<string> StatesFilter { get; set; } = [];
    [Field("5+")] public List<string> TypesFilter { get; set; } = [];
}

[ApiMessage(ApiKey.ListGroups, MessageKind.Response, "0-5", "3+")]
public sealed class ListGroupsResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+")] public List<ListedGroup> Groups { get; set; } = [];

    public sealed class ListedGroup
    {
        [Field("0+")] public string GroupId { get; set; } = "";
        [Field("0+")] public string ProtocolType { get; set; } = "";
        [Field("4+", Ignorable = true)] public string GroupState { get; set; } = "";
        [Field("5+", Ignorable = true)] public string GroupType { get; set; } = "";
    }
}
