using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeLogDirs, MessageKind.Request, "0-4", "2+")]
public sealed class DescribeLogDirsRequest
{
    [Field("0+", NullableVersions = "0+")] public List<DescribableLogDirTopic>? Topics { get; set; } = [];

    public sealed class DescribableLogDirTopic
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}

[ApiMessage(ApiKey.DescribeLogDirs, MessageKind.Response, "0-4", "2+")]
public sealed class DescribeLogDirsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("3+", Ignorable = true)] public short ErrorCode { get; set; }
    [Field("0+")] public List<DescribeLogDirsResult> Results { get; set; } = [];

    public sealed class DescribeLogDirsResult
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public string LogDir { get; set; } = "";
        [Field("0+")] public List<DescribeLogDirsTopic> Topics { get; set; } = [];
        [Field("4+", Ignorable = true)] public long TotalBytes { get; set; } = -1;
        [Field("4+", Ignorable = true)] public long UsableBytes { get; set; } = -1;
    }

    public sealed class DescribeLogDirsTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<DescribeLogDirsPartition> Partitions { get; set; } = [];
    }

    public sealed class DescribeLogDirsPartition
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public long PartitionSize { get; set; }
        [Field("0+")] public long OffsetLag { get; set; }
        [Field("0+")] public bool IsFutureKey { get; set; }
    }
}
