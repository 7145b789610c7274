using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DeleteAcls, MessageKind.Request, "0-3", "2+")]
public sealed class DeleteAclsRequest
{
    [Field("0+")] public List<DeleteAclsFilter> Filters { get; set; } = [];

    public sealed class DeleteAclsFilter
    {
        [Field("0+")] public sbyte ResourceTypeFilter { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ResourceNameFilter { get; set; } = "";
        [Field("1+")] public sbyte PatternTypeFilter { get; set; } = 3;
        [Field("0+", NullableVersions = "0+")] public string? PrincipalFilter { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? HostFilter { get; set; } = "";
        [Field("0+")] public sbyte Operation { get; set; }
        [Field("0+")] public sbyte PermissionType { get; set; }
    }
}

[ApiMessage(ApiKey.DeleteAcls, MessageKind.Response, "0-3", "2+")]
public sealed class DeleteAclsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DeleteAclsFilterResult> FilterResults { get; set; } = [];

    public sealed class DeleteAclsFilterResult
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
        [Field("0+")] public List<DeleteAclsMatchingAcl> MatchingAcls { get; set; } = [];
    }

    public sealed class DeleteAclsMatchingAcl
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
        [Field("1+")] public sbyte PatternType { get; set; } = 3;
        [Field("0+")] public string Principal { get; set; } = "";
        [Field("0+")] public string Host { get; set; } = "";
        [Field("0+")] public sbyte Operation { get; set; }
        [Field("0+")] public sbyte PermissionType { get; set; }
    }
}
