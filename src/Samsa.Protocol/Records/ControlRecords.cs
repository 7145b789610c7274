using System.Buffers.Binary;

namespace Samsa.Protocol.Records;

/// <summary>Type field of a control record's key (Kafka's ControlRecordType).</summary>
public enum ControlRecordType : short
{
    Abort = 0,
    Commit = 1,
    LeaderChange = 2,
    SnapshotHeader = 3,
    SnapshotFooter = 4,
    KRaftVersion = 5,
    KRaftVoters = 6,
}

/// <summary>
/// The marker the transaction coordinator has written to each partition of a transaction when it ends.
/// It is the only record of a control batch (attributes: transactional + control; baseSequence -1):
/// key = version int16 (0) + type int16 (0 ABORT, 1 COMMIT); value = version int16 (0) + coordinatorEpoch int32.
/// </summary>
public readonly record struct EndTransactionMarker(ControlRecordType Type, int CoordinatorEpoch)
{
    public const short CurrentVersion = 0;
    public const int KeySize = 4;
    public const int ValueSize = 6;

    public bool IsCommit => Type == ControlRecordType.Commit;

    public byte[] EncodeKey()
    {
        var key = new byte[KeySize];
        BinaryPrimitives.WriteInt16BigEndian(key, CurrentVersion);
        BinaryPrimitives.WriteInt16BigEndian(key.AsSpan(2), (short)Type);
        return key;
    }

    public byte[] EncodeValue()
    {
        var value = new byte[ValueSize];
        BinaryPrimitives.WriteInt16BigEndian(value, CurrentVersion);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(2), CoordinatorEpoch);
        return value;
    }

    /// <summary>Builds a complete control batch holding this marker.</summary>
    public byte[] BuildBatch(long producerId, short producerEpoch, long timestamp, long baseOffset = 0,
        int partitionLeaderEpoch = RecordBatchLayout.NoPartitionLeaderEpoch)
    {
        if (Type is not (ControlRecordType.Abort or ControlRecordType.Commit))
            throw new ArgumentOutOfRangeException(nameof(Type), Type, "An end-transaction marker is ABORT or COMMIT.");
        using var builder = new RecordBatchBuilder
        {
            BaseOffset = baseOffset,
            PartitionLeaderEpoch = partitionLeaderEpoch,
            ProducerId = producerId,
            ProducerEpoch = producerEpoch,
            IsTransactional = true,
            IsControl = true,
        };
        builder.Append(timestamp, EncodeKey(), EncodeValue());
        return builder.Build();
    }

    /// <summary>Reads the type from a control record key; false if the key is too short or null.</summary>
    public static bool TryParseType(ReadOnlySpan<byte> key, out ControlRecordType type)
    {
        type = default;
        if (key.Length < KeySize) return false;
        short version = BinaryPrimitives.ReadInt16BigEndian(key);
        if (version < 0) return false;
        type = (ControlRecordType)BinaryPrimitives.ReadInt16BigEndian(key[2..]);
        return true;
    }

    /// <summary>Parses a control record as an end-transaction marker (false for other control types or bad bytes).</summary>
    public static bool TryParse(Record record, out EndTransactionMarker marker)
    {
        marker = default;
        if (record.Key is not { } key || !TryParseType(key.Span, out var type)) return false;
        if (type is not (ControlRecordType.Abort or ControlRecordType.Commit)) return false;
        // Later value versions may append fields; version 0 fields come first.
        if (record.Value is not { } value || value.Length < ValueSize) return false;
        if (BinaryPrimitives.ReadInt16BigEndian(value.Span) < 0) return false;
        marker = new EndTransactionMarker(type, BinaryPrimitives.ReadInt32BigEndian(value.Span[2..]));
        return true;
    }

    /// <summary>Parses the marker of a control batch (its first record).</summary>
    public static bool TryParse(RecordBatch batch, out EndTransactionMarker marker)
    {
        marker = default;
        if (!batch.IsControl) return false;
        var records = new List<Record>(1);
        if (batch.TryReadRecords(records) != RecordBatchError.None || records.Count == 0) return false;
        return TryParse(records[0], out marker);
    }
}
