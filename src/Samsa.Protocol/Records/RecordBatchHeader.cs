using System.Buffers.Binary;

namespace Samsa.Protocol.Records;

public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

public enum TimestampType : byte
{
    CreateTime = 0,
    LogAppendTime = 1,
}

/// <summary>
/// Offsets of the fixed 61-byte header of a v2 record batch (magic 2). All integers big-endian.
/// The CRC-32C covers bytes [<see cref="AttributesOffset"/>, end of batch).
/// <see cref="BatchLengthOffset"/> holds the number of bytes after the length field (batch size - 12).
/// </summary>
public static class RecordBatchLayout
{
    public const int BaseOffsetOffset = 0;
    public const int BatchLengthOffset = 8;
    public const int PartitionLeaderEpochOffset = 12;
    public const int MagicOffset = 16;
    public const int CrcOffset = 17;
    public const int AttributesOffset = 21;
    public const int LastOffsetDeltaOffset = 23;
    public const int BaseTimestampOffset = 27;
    public const int MaxTimestampOffset = 35;
    public const int ProducerIdOffset = 43;
    public const int ProducerEpochOffset = 51;
    public const int BaseSequenceOffset = 53;
    public const int RecordCountOffset = 57;
    public const int HeaderSize = 61;

    /// <summary>Size of baseOffset + batchLength, the part not counted by batchLength.</summary>
    public const int LogOverhead = 12;

    public const byte CurrentMagic = 2;

    public const short CompressionMask = 0x07;
    public const short TimestampTypeFlag = 0x08;
    public const short TransactionalFlag = 0x10;
    public const short ControlFlag = 0x20;
    public const short DeleteHorizonFlag = 0x40;

    public const long NoProducerId = -1;
    public const short NoProducerEpoch = -1;
    public const int NoSequence = -1;
    public const int NoPartitionLeaderEpoch = -1;
}

/// <summary>
/// A read-only view of the header of one v2 record batch at the start of <see cref="Span"/>.
/// Does not copy; valid as long as the underlying memory is.
/// </summary>
public readonly ref struct RecordBatchHeader
{
    private readonly ReadOnlySpan<byte> _span;

    public RecordBatchHeader(ReadOnlySpan<byte> batch)
    {
        if (batch.Length < RecordBatchLayout.HeaderSize)
            throw new ArgumentException("A record batch header needs 61 bytes.", nameof(batch));
        _span = batch;
    }

    public ReadOnlySpan<byte> Span => _span;

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(_span[RecordBatchLayout.BaseOffsetOffset..]);
    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(_span[RecordBatchLayout.BatchLengthOffset..]);
    /// <summary>Total bytes of the batch including baseOffset and batchLength.</summary>
    public int SizeInBytes => BatchLength + RecordBatchLayout.LogOverhead;
    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(_span[RecordBatchLayout.PartitionLeaderEpochOffset..]);
    public byte Magic => _span[RecordBatchLayout.MagicOffset];
    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(_span[RecordBatchLayout.CrcOffset..]);
    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(_span[RecordBatchLayout.AttributesOffset..]);
    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(_span[RecordBatchLayout.LastOffsetDeltaOffset..]);
    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(_span[RecordBatchLayout.BaseTimestampOffset..]);
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(_span[RecordBatchLayout.MaxTimestampOffset..]);
    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(_span[RecordBatchLayout.ProducerIdOffset..]);
    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(_span[RecordBatchLayout.ProducerEpochOffset..]);
    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(_span[RecordBatchLayout.BaseSequenceOffset..]);
    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(_span[RecordBatchLayout.RecordCountOffset..]);

    public long LastOffset => BaseOffset + LastOffsetDelta;
    public CompressionType Compression => (CompressionType)(Attributes & RecordBatchLayout.CompressionMask);
    public TimestampType TimestampType =>
        (Attributes & RecordBatchLayout.TimestampTypeFlag) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
    public bool IsTransactional => (Attributes & RecordBatchLayout.TransactionalFlag) != 0;
    public bool IsControl => (Attributes & RecordBatchLayout.ControlFlag) != 0;
    public bool HasProducerId => ProducerId >= 0;

    /// <summary>Last sequence number in the batch, wrapping at int.MaxValue as Kafka does.</summary>
    public int LastSequence
    {
        get
        {
            int baseSeq = BaseSequence;
            if (baseSeq == RecordBatchLayout.NoSequence) return RecordBatchLayout.NoSequence;
            long last = (long)baseSeq + LastOffsetDelta;
            return last > int.MaxValue ? (int)(last - int.MaxValue - 1) : (int)last;
        }
    }

    /// <summary>CRC-32C of the batch from the attributes field to its end. Requires the whole batch in the span.</summary>
    public uint ComputeCrc() =>
        Crc32C.Compute(_span[RecordBatchLayout.AttributesOffset..SizeInBytes]);

    public bool IsCrcValid => _span.Length >= SizeInBytes && ComputeCrc() == Crc;
}

/// <summary>In-place patches a leader applies to a batch before appending it (base offset, epoch, append time).</summary>
public static class RecordBatchPatch
{
    public static void SetBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.BaseOffsetOffset..], baseOffset);

    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.PartitionLeaderEpochOffset..], epoch);

    /// <summary>
    /// Sets the LogAppendTime flag and max timestamp, then recomputes the CRC (which covers attributes and timestamps).
    /// </summary>
    public static void SetLogAppendTime(Span<byte> batch, long timestamp)
    {
        short attributes = BinaryPrimitives.ReadInt16BigEndian(batch[RecordBatchLayout.AttributesOffset..]);
        attributes |= RecordBatchLayout.TimestampTypeFlag;
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchLayout.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.MaxTimestampOffset..], timestamp);
        RecomputeCrc(batch);
    }

    public static void RecomputeCrc(Span<byte> batch)
    {
        int size = BinaryPrimitives.ReadInt32BigEndian(batch[RecordBatchLayout.BatchLengthOffset..]) + RecordBatchLayout.LogOverhead;
        uint crc = Crc32C.Compute(batch[RecordBatchLayout.AttributesOffset..size]);
        BinaryPrimitives.WriteUInt32BigEndian(batch[RecordBatchLayout.CrcOffset..], crc);
    }
}
