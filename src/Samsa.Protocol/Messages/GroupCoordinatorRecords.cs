using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

// The record schemas of __consumer_offsets, as Kafka's group coordinator writes them, so Kafka's formatters
// (kafka-console-consumer --formatter ...OffsetsMessageFormatter / GroupMetadataMessageFormatter) read Samsa's topic.
// Each key and value is prefixed by an int16 version written by the caller (see Samsa.Broker.Groups.GroupRecordSerde):
// key version 0/1 = OffsetCommitKey, 2 = GroupMetadataKey; a null value is a tombstone.

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-1", "none")]
public sealed class OffsetCommitKey
{
    [Field("0+")] public string Group { get; set; } = "";
    [Field("0+")] public string Topic { get; set; } = "";
    [Field("0+")] public int Partition { get; set; }
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-4", "4+")]
public sealed class OffsetCommitValue
{
    [Field("0+")] public long Offset { get; set; }
    [Field("3+", Ignorable = true)] public int LeaderEpoch { get; set; } = -1;
    [Field("0+")] public string Metadata { get; set; } = "";
    [Field("0+")] public long CommitTimestamp { get; set; }
    [Field("1", Ignorable = true)] public long ExpireTimestamp { get; set; } = -1;
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-2", "none")]
public sealed class GroupMetadataKey
{
    [Field("0+")] public string Group { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-4", "4+")]
public sealed class GroupMetadataValue
{
    [Field("0+")] public string ProtocolType { get; set; } = "";
    [Field("0+")] public int Generation { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? Protocol { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? Leader { get; set; }
    [Field("2+", Ignorable = true)] public long CurrentStateTimestamp { get; set; } = -1;
    [Field("0+")] public List<MemberMetadata> Members { get; set; } = [];

    public sealed class MemberMetadata
    {
        [Field("0+")] public string MemberId { get; set; } = "";
        [Field("3+", NullableVersions = "3+", Ignorable = true)] public string? GroupInstanceId { get; set; }
        [Field("0+")] public string ClientId { get; set; } = "";
        [Field("0+")] public string ClientHost { get; set; } = "";
        [Field("1+", Ignorable = true)] public int RebalanceTimeout { get; set; }
        [Field("0+")] public int SessionTimeout { get; set; }
        [Field("0+")] public byte[] Subscription { get; set; } = [];
        [Field("0+")] public byte[] Assignment { get; set; } = [];
    }
}
