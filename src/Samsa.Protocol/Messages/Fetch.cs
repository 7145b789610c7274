using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.Fetch, MessageKind.Request, "0-17", "12+")]
public sealed class FetchRequest
{
    [Field("12+", NullableVersions = "12+", Tag = 0, TaggedVersions = "12+", Ignorable = true)] public string? ClusterId { get; set; }
    [Field("0-14")] public int ReplicaId { get; set; } = -1;
    [Field("15+", Tag = 1, TaggedVersions = "15+")] public ReplicaStateData ReplicaState { get; set; } = new();
    [Field("0+")] public int MaxWaitMs { get; set; }
    [Field("0+")] public int MinBytes { get; set; }
    [Field("3+", Ignorable = true)] public int MaxBytes { get; set; } = int.MaxValue;
    [Field("4+", Ignorable = true)] public sbyte IsolationLevel { get; set; }
    [Field("7+", Ignorable = true)] public int SessionId { get; set; }
    [Field("7+", Ignorable = true)] public int SessionEpoch { get; set; } = -1;
    [Field("0+")] public List<FetchTopic> Topics { get; set; } = [];
    [Field("7+")] public List<ForgottenTopic> ForgottenTopicsData { get; set; } = [];
    [Field("11+", Ignorable = true)] public string RackId { get; set; } = "";

    public sealed class ReplicaStateData
    {
        [Field("15+")] public int ReplicaId { get; set; } = -1;
        [Field("15+")] public long ReplicaEpoch { get; set; } = -1;
    }

    public sealed class FetchTopic
    {
        [Field("0-12", Ignorable = true)] public string Topic { get; set; } = "";
        [Field("13+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("0+")] public List<FetchPartition> Partitions { get; set; } = [];
    }

    public sealed class FetchPartition
    {
        [Field("0+")] public int Partition { get; set; }
        [Field("9+", Ignorable = true)] public int CurrentLeaderEpoch { get; set; } = -1;
        [Field("0+")] public long FetchOffset { get; set; }
        [Field("12+")] public int LastFetchedEpoch { get; set; } = -1;
        [Field("5+", Ignorable = true)] public long LogStartOffset { get; set; } = -1;
        [Field("0+")] public int PartitionMaxBytes { get; set; }
        [Field("17+", Tag = 0, TaggedVersions = "17+", Ignorable = true)] public Guid ReplicaDirectoryId { get; set; }
    }

    public sealed class ForgottenTopic
    {
        [Field("7-12", Ignorable = true)] public string Topic { get; set; } = "";
        [Field("13+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("7+")] public List<int> Partitions { get; set; } = [];
    }
}

[ApiMessage(ApiKey.Fetch, MessageKind.Response, "0-17", "12+")]
public sealed class FetchResponse
{
    [Field("1+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("7+", Ignorable = true)] public short ErrorCode { get; set; }
    [Field("7+")] public int SessionId { get; set; }
    [Field("0+")] public List<FetchableTopicResponse> Responses { get; set; } = [];
    [Field("16+", Tag = 0, TaggedVersions = "16+")] public List<NodeEndpoint> NodeEndpoints { get; set; } = [];

    public sealed class FetchableTopicResponse
    {
        [Field("0-12", Ignorable = true)] public string Topic { get; set; } = "";
        [Field("13+", Ignorable = true)] public Guid TopicId { get; set; }
        [Field("0+")] public List<PartitionData> Partitions { get; set; } = [];
    }

    public sealed class PartitionData
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public long HighWatermark { get; set; }
        [Field("4+", Ignorable = true)] public long LastStableOffset { get; set; } = -1;
        [Field("5+", Ignorable = true)] public long LogStartOffset { get; set; } = -1;
        [Field("12+", Tag = 0, TaggedVersions = "12+")] public EpochEndOffset DivergingEpoch { get; set; } = new();
        [Field("12+", Tag = 1, TaggedVersions = "12+")] public LeaderIdAndEpoch CurrentLeader { get; set; } = new();
        [Field("12+", Tag = 2, TaggedVersions = "12+")] public SnapshotId SnapshotId { get; set; } = new();
        [Field("4+", NullableVersions = "4+", Ignorable = true)] public List<AbortedTransaction>? AbortedTransactions { get; set; } = [];
        [Field("11+")] public int PreferredReadReplica { get; set; } = -1;
        [Field("0+", NullableVersions = "0+")] public ReadOnlyMemory<byte>? Records { get; set; }
    }

    public sealed class EpochEndOffset
    {
        [Field("12+")] public int Epoch { get; set; } = -1;
        [Field("12+")] public long EndOffset { get; set; } = -1;
    }

    public sealed class LeaderIdAndEpoch
    {
        [Field("12+")] public int LeaderId { get; set; } = -1;
        [Field("12+")] public int LeaderEpoch { get; set; } = -1;
    }

    public sealed class SnapshotId
    {
        [Field("0+")] public long EndOffset { get; set; } = -1;
        [Field("0+")] public int Epoch { get; set; } = -1;
    }

    public sealed class AbortedTransaction
    {
        [Field("4+")] public long ProducerId { get; set; }
        [Field("4+")] public long FirstOffset { get; set; }
    }

    public sealed class NodeEndpoint
    {
        [Field("16+")] public int NodeId { get; set; }
        [Field("16+")] public string Host { get; set; } = "";
        [Field("16+")] public int Port { get; set; }
        [Field("16+", NullableVersions = "16+")] public string? Rack { get; set; }
    }
}
