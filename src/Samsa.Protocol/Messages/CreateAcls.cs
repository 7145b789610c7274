using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.CreateAcls, MessageKind.Request, "0-3", "2+")]
public sealed class CreateAclsRequest
{
    [Field("0+")] public List<AclCreation> Creations { get; set; } = [];

    public sealed class AclCreation
    {
        [Field("0+")] public sbyte ResourceType { get; set; }
        [Field("0+")] public string ResourceName { get; set; } = "";
        [Field("1+")] public sbyte ResourcePatternType { get; set; } = 3;
        [Field("0+")] public string Principal { get; set; } = "";
        [Field("0+")] public string Host { get; set; } = "";
        [Field("0+")] public sbyte Operation { get; set; }
        [Field("0+")] public sbyte PermissionType { get; set; }
    }
}

[ApiMessage(ApiKey.CreateAcls, MessageKind.Response, "0-3", "2+")]
public sealed class CreateAclsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<AclCreationResult> Results { get; set; } = [];

    public sealed class AclCreationResult
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    }
}
