using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-3", "none")]
public sealed class ConsumerProtocolAssignment
{
    [Field("0+")] public List<TopicPartition> AssignedPartitions { get; set; } = [];
    [Field("0+", NullableVersions = "0+")] public byte[]? UserData { get; set; }

    public sealed class TopicPartition
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}
