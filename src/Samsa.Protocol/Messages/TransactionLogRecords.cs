using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

// The record schemas of __transaction_state, as Kafka's transaction coordinator writes them, so Kafka's formatter
// (kafka-console-consumer --formatter ...TransactionLogMessageFormatter) reads Samsa's topic. Key and value are each
// prefixed by an int16 version written by the caller (Samsa.Broker.Transactions.TransactionLogSerde): key version 0,
// value version 0 (not flexible) or 1 (flexible, tagged fields of newer Kafka skipped). A null value is a tombstone.

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0", "none")]
public sealed class TransactionLogKey
{
    [Field("0+")] public string TransactionalId { get; set; } = "";
}

[ApiMessage((ApiKey)(-1), MessageKind.Data, "0-1", "1+")]
public sealed class TransactionLogValue
{
    [Field("0+")] public long ProducerId { get; set; }
    [Field("1+", Tag = 0, TaggedVersions = "1+", Ignorable = true)] public long PreviousProducerId { get; set; } = -1;
    [Field("1+", Tag = 1, TaggedVersions = "1+", Ignorable = true)] public long NextProducerId { get; set; } = -1;
    [Field("0+")] public short ProducerEpoch { get; set; }
    [Field("0+")] public int TransactionTimeoutMs { get; set; }
    [Field("0+")] public sbyte TransactionStatus { get; set; }
    [Field("0+", NullableVersions = "0+")] public List<PartitionsSchema>? TransactionPartitions { get; set; }
    [Field("0+")] public long TransactionLastUpdateTimestampMs { get; set; }
    [Field("0+")] public long TransactionStartTimestampMs { get; set; }
    [Field("1+", Tag = 2, TaggedVersions = "1+", Ignorable = true)] public short ClientTransactionVersion { get; set; }

    public sealed class PartitionsSchema
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<int> PartitionIds { get; set; } = [];
    }
}
