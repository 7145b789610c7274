using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeAcls, MessageKind.Request, "0-3", "2+")]
public sealed class DescribeAclsRequest
{
    [Field("0+")] public sbyte ResourceTypeFilter { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ResourceNameFilter { get; set; } = "";
    [Field("1+")] public sbyte PatternTypeFilter { get; set; } = 3;
    [Field("0+", NullableVersions = "0+")] public string? PrincipalFilter { get; set; } = "";
    [Field("0+", NullableVersions = "0+")] public string? HostFilter { get; set; } = "";
    [Field("0+")] public sbyte Operation { get; set; }
    [Field("0+")] public sbyte PermissionType { get; set; }
}

[ApiMessage(ApiKey.DescribeAcls, MessageKind.Response, "0-3", "2+")]
public sealed class DescribeAclsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    [Field("0+")] public List<DescribeAclsResource> Resources { get; set; } = [];

    public sealed class DescribeAclsResource
    {
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
        [Field("1+")] public sbyte PatternType { get; set; } = 3;
        [Field("0+")] public List<AclDescription> Acls { get; set; } = [];
    }

    public sealed class AclDescription
    {
        [Field("0+")] public string Principal { get; set; } = "";
        [Field("0+")] public string Host { get; set; } = "";
        [Field("0+")] public sbyte Operation { get; set; }
        [Field("0+")] public sbyte PermissionType { get; set; }
    }
}
