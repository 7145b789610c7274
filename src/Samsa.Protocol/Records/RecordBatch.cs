using System.Buffers.Binary;
using Samsa.Protocol.Compression;

namespace Samsa.Protocol.Records;

/// <summary>
/// One complete v2 record batch in memory, as yielded by <see cref="RecordBatchReader"/>. The bytes are not
/// copied; header fields are read on demand. Records are decoded only when asked.
/// </summary>
public readonly struct RecordBatch
{
    public RecordBatch(ReadOnlyMemory<byte> memory)
    {
        if (memory.Length < RecordBatchLayout.HeaderSize)
            throw new ArgumentException("A record batch needs at least 61 bytes.", nameof(memory));
        Memory = memory;
    }

    /// <summary>The whole batch, from baseOffset to its last byte.</summary>
    public ReadOnlyMemory<byte> Memory { get; }

    public RecordBatchHeader Header => new(Memory.Span);
    public int SizeInBytes => Memory.Length;
    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(Memory.Span);
    public long LastOffset => Header.LastOffset;
    public int RecordCount => Header.RecordCount;
    public CompressionType Compression => Header.Compression;
    public TimestampType TimestampType => Header.TimestampType;
    public bool IsControl => Header.IsControl;
    public bool IsTransactional => Header.IsTransactional;
    public long ProducerId => Header.ProducerId;
    public short ProducerEpoch => Header.ProducerEpoch;

    /// <summary>The records section as stored (compressed if the batch is).</summary>
    public ReadOnlyMemory<byte> RecordsPayload => Memory[RecordBatchLayout.HeaderSize..];

    /// <summary>
    /// The records section uncompressed: a slice of <see cref="Memory"/> for uncompressed batches, else a new array.
    /// Throws <see cref="RecordFormatException"/> (DecompressionFailed, BatchTooLarge, UnsupportedCompression).
    /// </summary>
    public ReadOnlyMemory<byte> DecompressRecords(int maxDecompressedSize = CompressionCodec.DefaultMaxDecompressedSize)
    {
        var error = TryDecompressRecords(maxDecompressedSize, out var payload);
        if (error != RecordBatchError.None) throw new RecordFormatException(error, $"Cannot decompress batch: {error}.");
        return payload;
    }

    private RecordBatchError TryDecompressRecords(int maxDecompressedSize, out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        var compression = Compression;
        if (compression == CompressionType.None)
        {
            payload = RecordsPayload;
            return RecordBatchError.None;
        }
        if (!CompressionCodec.IsSupported(compression)) return RecordBatchError.UnsupportedCompression;
        using var output = new PooledBufferWriter(Math.Min(RecordsPayload.Length * 4, 1 << 20));
        try
        {
            CompressionCodec.Decompress(compression, RecordsPayload, output, maxDecompressedSize);
        }
        catch (DecompressionLimitExceededException)
        {
            return RecordBatchError.BatchTooLarge;
        }
        catch (CompressionException)
        {
            return RecordBatchError.DecompressionFailed;
        }
        payload = output.WrittenSpan.ToArray();
        return RecordBatchError.None;
    }

    /// <summary>Decodes all records. Throws <see cref="RecordFormatException"/> if the batch is malformed.</summary>
    public List<Record> ReadRecords(int maxDecompressedSize = CompressionCodec.DefaultMaxDecompressedSize)
    {
        var records = new List<Record>();
        var error = TryReadRecords(records, maxDecompressedSize);
        if (error != RecordBatchError.None) throw new RecordFormatException(error, $"Malformed record batch: {error}.");
        return records;
    }

    /// <summary>
    /// Decodes all records into <paramref name="records"/>, checking that their number matches recordCount, offset
    /// deltas increase and stay within lastOffsetDelta, and no bytes trail. With <paramref name="requireDenseOffsets"/>
    /// (produce requests) each offsetDelta must equal its index.
    /// </summary>
    public RecordBatchError TryReadRecords(List<Record> records, int maxDecompressedSize = CompressionCodec.DefaultMaxDecompressedSize,
        bool requireDenseOffsets = false)
    {
        ArgumentNullException.ThrowIfNull(records);
        var error = TryDecompressRecords(maxDecompressedSize, out var payload);
        if (error != RecordBatchError.None) return error;
        int count = RecordCount;
        int lastOffsetDelta = Header.LastOffsetDelta;
        if (count < 0) return RecordBatchError.RecordCountMismatch;
        int previousDelta = -1;
        for (int i = 0; i < count; i++)
        {
            if (payload.IsEmpty) return RecordBatchError.RecordCountMismatch;
            error = Record.TryRead(payload, out Record record, out int consumed);
            if (error != RecordBatchError.None) return RecordBatchError.InvalidRecord;
            if (record.OffsetDelta <= previousDelta || record.OffsetDelta > lastOffsetDelta
                || (requireDenseOffsets && record.OffsetDelta != i))
                return RecordBatchError.InvalidRecord;
            previousDelta = record.OffsetDelta;
            records.Add(record);
            payload = payload[consumed..];
        }
        return payload.IsEmpty ? RecordBatchError.None : RecordBatchError.RecordCountMismatch;
    }
}
