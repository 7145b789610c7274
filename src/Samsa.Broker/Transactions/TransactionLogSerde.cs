using System.Buffers;
using Samsa.Broker.Groups;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Transactions;

/// <summary>
/// Encodes and decodes __transaction_state records in Kafka's format: key = int16 version 0 + TransactionLogKey,
/// value = int16 version + TransactionLogValue (Samsa writes version 1, flexible; 0 is read too). A null value is a
/// tombstone (an expired transactional id).
/// </summary>
public static class TransactionLogSerde
{
    private const short KeyVersion = 0;
    private const short ValueVersion = 1;

    public static CoordinatorRecord Record(string transactionalId, TxnSnapshot? snapshot) =>
        new(Encode(KeyVersion, new TransactionLogKey { TransactionalId = transactionalId }),
            snapshot is null ? null : Encode(ValueVersion, new TransactionLogValue
            {
                ProducerId = snapshot.ProducerId,
                PreviousProducerId = snapshot.PreviousProducerId,
                ProducerEpoch = snapshot.ProducerEpoch,
                TransactionTimeoutMs = snapshot.TimeoutMs,
                TransactionStatus = (sbyte)snapshot.State,
                // Kafka writes null partitions for Empty and Complete states.
                TransactionPartitions = snapshot.Partitions.Count == 0 ? null : snapshot.Partitions
                    .GroupBy(p => p.Topic, StringComparer.Ordinal)
                    .Select(g => new TransactionLogValue.PartitionsSchema { Topic = g.Key, PartitionIds = g.Select(p => p.Partition).ToList() })
                    .ToList(),
                TransactionLastUpdateTimestampMs = snapshot.LastUpdateMs,
                TransactionStartTimestampMs = snapshot.StartTimeMs,
            }));

    /// <summary>The transactional id of a key, or null when the key is not a TransactionLogKey v0.</summary>
    public static string? DecodeKey(ReadOnlyMemory<byte> key)
    {
        if (key.Length < 2) return null;
        var reader = new KafkaReader(key);
        return reader.ReadInt16() == KeyVersion ? MessageCodec.Read<TransactionLogKey>(reader, 0).TransactionalId : null;
    }

    public static TxnSnapshot DecodeValue(ReadOnlyMemory<byte> value)
    {
        var reader = new KafkaReader(value);
        short version = Math.Min(reader.ReadInt16(), ValueVersion);
        var v = MessageCodec.Read<TransactionLogValue>(reader, version);
        var partitions = new SortedSet<TxnPartition>();
        foreach (var t in v.TransactionPartitions ?? [])
            foreach (int p in t.PartitionIds) partitions.Add(new TxnPartition(t.Topic, p));
        return new TxnSnapshot(v.ProducerId, v.PreviousProducerId, v.ProducerEpoch, v.TransactionTimeoutMs,
            (TransactionState)v.TransactionStatus, partitions, v.TransactionStartTimestampMs, v.TransactionLastUpdateTimestampMs);
    }

    private static byte[] Encode<T>(short version, T body) where T : class
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(version);
        MessageCodec.Write(writer, body, version);
        return buffer.WrittenSpan.ToArray();
    }
}
