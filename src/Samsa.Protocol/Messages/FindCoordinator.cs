using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.FindCoordinator, MessageKind.Request, "0-6", "3+")]
public sealed class FindCoordinatorRequest
{
    [Field("0-3")] public string Key { get; set; } = "";
    [Field("1+")] public sbyte KeyType { get; set; }
    [Field("4+")] public List<string> CoordinatorKeys { get; set; } = [];
}

[ApiMessage(ApiKey.FindCoordinator, MessageKind.Response, "0-6", "3+")]
public sealed class FindCoordinatorResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0-3")] public short ErrorCode { get; set; }
    [Field("1-3", NullableVersions = "1-3", Ignorable = true)] public string? ErrorMessage { get; set; } = "";
    [Field("0-3")] public int NodeId { get; set; }
    [Field("0-3")] public string Host { get; set; } = "";
    [Field("0-3")] public int Port { get; set; }
    [Field("4+")] public List<Coordinator> Coordinators { get; set; } = [];

    public sealed class Coordinator
    {
        [Field("4+")] public string Key { get; set; } = "";
        [Field("4+")] public int NodeId { get; set; }
        [Field("4+")] public string Host { get; set; } = "";
        [Field("4+")] public int Port { get; set; }
        [Field("4+")] public short ErrorCode { get; set; }
        [Field("4+", NullableVersions = "4+", Ignorable = true)] public string? ErrorMessage { get; set; } = "";
    }
}
