using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeCluster, MessageKind.Request, "0-1", "0+")]
public sealed class DescribeClusterRequest
{
    [Field("0+")] public bool IncludeClusterAuthorizedOperations { get; set; }
    [Field("1+")] public sbyte EndpointType { get; set; } = 1;
}

[ApiMessage(ApiKey.DescribeCluster, MessageKind.Response, "0-1", "0+")]
public sealed class DescribeClusterResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; }
    [Field("1+")] public sbyte EndpointType { get; set; } = 1;
    [Field("0+")] public string ClusterId { get; set; } = "";
    [Field("0+")] public int ControllerId { get; set; } = -1;
    [Field("0+")] public List<DescribeClusterBroker> Brokers { get; set; } = [];
    [Field("0+")] public int ClusterAuthorizedOperations { get; set; } = int.MinValue;

    public sealed class DescribeClusterBroker
    {
        [Field("0+")] public int BrokerId { get; set; }
        [Field("0+")] public string Host { get; set; } = "";
        [Field("0+")] public int Port { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? Rack { get; set; }
    }
}
