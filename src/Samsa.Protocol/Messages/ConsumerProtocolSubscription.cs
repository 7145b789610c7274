using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-3", "none")]
public sealed class ConsumerProtocolSubscription
{
    [Field("0+")] public List<string> Topics { get; set; } = [];
    [Field("0+", NullableVersions = "0+")] public byte[]? UserData { get; set; }
    [Field("1+", Ignorable = true)] public List<TopicPartition> OwnedPartitions { get; set; } = [];
    [Field("2+", Ignorable = true)] public int GenerationId { get; set; } = -1;
    [Field("3+", NullableVersions = "3+", Ignorable = true)] public string? RackId { get; set; }

    public sealed class TopicPartition
    {
        [Field("1+")] public string Topic { get; set; } = "";
        [Field("1+")] public List<int> Partitions { get; set; } = [];
    }
}
