using System.Buffers;
using System.Buffers.Binary;
using Samsa.Protocol.Compression;

namespace Samsa.Protocol.Records;

/// <summary>
/// Builds one v2 record batch (magic 2). Records are encoded into a pooled buffer as they are appended;
/// <see cref="Build()"/> compresses them, writes the 61-byte header and fills in the CRC-32C.
/// Offsets default to consecutive (offsetDelta = index); <see cref="AppendWithOffset"/> allows gaps, as compaction
/// leaves them. baseTimestamp is the first record's timestamp; maxTimestamp the largest (CreateTime) or
/// <see cref="LogAppendTime"/>. Dispose to return the pooled buffers. Not thread-safe.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    private readonly PooledBufferWriter _records = new(1024);
    private long _firstTimestamp;
    private long _maxTimestamp = -1;
    private long _lastOffset = -1;
    private int _count;

    public RecordBatchBuilder(CompressionType compression = CompressionType.None,
        TimestampType timestampType = TimestampType.CreateTime)
    {
        if (!CompressionCodec.IsSupported(compression))
            throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown compression type.");
        Compression = compression;
        TimestampType = timestampType;
    }

    public CompressionType Compression { get; }
    public TimestampType TimestampType { get; }
    /// <summary>Codec level (Kafka's compression.*.level); null for the codec default.</summary>
    public int? CompressionLevel { get; set; }

    /// <summary>Offset of the first record; leaders patch it on append, so producers leave it 0.</summary>
    public long BaseOffset
    {
        get;
        set
        {
            if (_count > 0) throw new InvalidOperationException("BaseOffset must be set before records are appended.");
            field = value;
        }
    }

    public int PartitionLeaderEpoch { get; set; } = RecordBatchLayout.NoPartitionLeaderEpoch;
    public long ProducerId { get; set; } = RecordBatchLayout.NoProducerId;
    public short ProducerEpoch { get; set; } = RecordBatchLayout.NoProducerEpoch;
    public int BaseSequence { get; set; } = RecordBatchLayout.NoSequence;
    public bool IsTransactional { get; set; }
    public bool IsControl { get; set; }

    /// <summary>Broker time written as maxTimestamp when <see cref="TimestampType"/> is LogAppendTime.</summary>
    public long LogAppendTime { get; set; } = -1;

    public int Count => _count;

    /// <summary>Uncompressed size of the batch if built now.</summary>
    public int UncompressedSizeInBytes => RecordBatchLayout.HeaderSize + _records.WrittenCount;

    /// <summary>Appends a record at the next offset.</summary>
    public RecordBatchBuilder Append(long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value,
        IReadOnlyList<RecordHeader>? headers = null) =>
        AppendWithOffset(_lastOffset < 0 ? BaseOffset : _lastOffset + 1, timestamp, key, value, headers);

    /// <summary>
    /// Appends a record at the next offset. A null array means a null key/value (the implicit conversion of a null
    /// array to <see cref="ReadOnlyMemory{T}"/> would give an empty, non-null one).
    /// </summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public RecordBatchBuilder Append(long timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers = null) =>
        Append(timestamp, key is null ? null : (ReadOnlyMemory<byte>?)key, value is null ? null : (ReadOnlyMemory<byte>?)value, headers);

    /// <summary>Appends a record at an explicit absolute offset, greater than the previous one.</summary>
    public RecordBatchBuilder AppendWithOffset(long offset, long timestamp, ReadOnlyMemory<byte>? key,
        ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader>? headers = null)
    {
        if (offset < BaseOffset || (_count > 0 && offset <= _lastOffset))
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "Offsets must increase and not precede BaseOffset.");
        long offsetDelta = offset - BaseOffset;
        if (offsetDelta > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(offset), "Offset delta exceeds int32.");
        if (_count == 0) _firstTimestamp = timestamp;
        var record = new Record((int)offsetDelta, timestamp - _firstTimestamp, key, value, headers);
        record.WriteTo(_records);
        _maxTimestamp = _count == 0 ? timestamp : Math.Max(_maxTimestamp, timestamp);
        _lastOffset = offset;
        _count++;
        return this;
    }

    /// <summary>Builds the batch into a new array.</summary>
    public byte[] Build()
    {
        using var output = new PooledBufferWriter(UncompressedSizeInBytes);
        Build(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Appends the complete batch to <paramref name="destination"/>; returns its size in bytes.</summary>
    public int Build(IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_count == 0) throw new InvalidOperationException("A record batch needs at least one record.");

        PooledBufferWriter? compressed = null;
        try
        {
            ReadOnlySpan<byte> payload = _records.WrittenSpan;
            if (Compression != CompressionType.None)
            {
                compressed = new PooledBufferWriter(Math.Max(256, payload.Length / 2));
                CompressionCodec.Compress(Compression, payload, compressed, CompressionLevel);
                payload = compressed.WrittenSpan;
            }

            int size = RecordBatchLayout.HeaderSize + payload.Length;
            Span<byte> batch = destination.GetSpan(size)[..size];
            WriteHeader(batch, size);
            payload.CopyTo(batch[RecordBatchLayout.HeaderSize..]);
            BinaryPrimitives.WriteUInt32BigEndian(batch[RecordBatchLayout.CrcOffset..],
                Crc32C.Compute(batch[RecordBatchLayout.AttributesOffset..]));
            destination.Advance(size);
            return size;
        }
        finally
        {
            compressed?.Dispose();
        }
    }

    private void WriteHeader(Span<byte> batch, int size)
    {
        short attributes = (short)Compression;
        if (TimestampType == TimestampType.LogAppendTime) attributes |= RecordBatchLayout.TimestampTypeFlag;
        if (IsTransactional) attributes |= RecordBatchLayout.TransactionalFlag;
        if (IsControl) attributes |= RecordBatchLayout.ControlFlag;
        long maxTimestamp = TimestampType == TimestampType.LogAppendTime ? LogAppendTime : _maxTimestamp;

        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.BaseOffsetOffset..], BaseOffset);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.BatchLengthOffset..], size - RecordBatchLayout.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.PartitionLeaderEpochOffset..], PartitionLeaderEpoch);
        batch[RecordBatchLayout.MagicOffset] = RecordBatchLayout.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchLayout.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.LastOffsetDeltaOffset..], (int)(_lastOffset - BaseOffset));
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.BaseTimestampOffset..], _firstTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.MaxTimestampOffset..], maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.ProducerIdOffset..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchLayout.ProducerEpochOffset..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.BaseSequenceOffset..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.RecordCountOffset..], _count);
    }

    /// <summary>Clears records so the builder (and its pooled buffer) can build another batch; header settings stay.</summary>
    public void Reset()
    {
        _records.Clear();
        _count = 0;
        _lastOffset = -1;
        _maxTimestamp = -1;
        _firstTimestamp = 0;
    }

    public void Dispose() => _records.Dispose();
}
