using System.Buffers.Binary;
using Samsa.Protocol.Compression;

namespace Samsa.Protocol.Records;

/// <summary>Checks <see cref="RecordBatchReader.ValidateProducePayload"/> applies beyond framing and CRC.</summary>
public sealed record RecordValidationOptions
{
    public static RecordValidationOptions Default { get; } = new();

    /// <summary>Largest acceptable batch (the topic's max.message.bytes); larger gives BatchTooLarge.</summary>
    public int MaxBatchSize { get; init; } = int.MaxValue;

    /// <summary>Produce v3+ carries exactly one batch per partition.</summary>
    public bool RequireExactlyOneBatch { get; init; } = true;

    /// <summary>Control batches come from the transaction coordinator, never from a client.</summary>
    public bool AllowControlBatches { get; init; }

    /// <summary>Walk the length prefixes of uncompressed records to check recordCount (one varint per record).</summary>
    public bool CheckUncompressedRecordCount { get; init; } = true;

    /// <summary>Decompress and decode every record. Off on the hot path.</summary>
    public bool ValidateRecords { get; init; }

    /// <summary>Output limit when <see cref="ValidateRecords"/> decompresses.</summary>
    public int MaxDecompressedSize { get; init; } = CompressionCodec.DefaultMaxDecompressedSize;
}

/// <summary>
/// Iterates v2 record batches laid end to end (a log segment read, a fetch response's records, a produce request's
/// records). Each batch's framing is checked (magic, batchLength, optionally CRC) before it is yielded; after
/// <see cref="TryReadNext"/> returns false, <see cref="Error"/> tells a clean end (None), a partial trailing batch
/// (Truncated — normal for fetch responses and torn log tails) or corruption. A value type: copy it to fork.
/// </summary>
public struct RecordBatchReader
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private readonly bool _verifyCrc;

    public RecordBatchReader(ReadOnlyMemory<byte> buffer, bool verifyCrc = true)
    {
        _buffer = buffer;
        _verifyCrc = verifyCrc;
        Position = 0;
        Error = RecordBatchError.None;
    }

    /// <summary>Offset in the buffer of the next batch (after a failure: of the bad batch).</summary>
    public int Position { get; private set; }

    public RecordBatchError Error { get; private set; }

    public bool TryReadNext(out RecordBatch batch)
    {
        batch = default;
        if (Error != RecordBatchError.None || Position >= _buffer.Length) return false;
        var error = CheckBatch(_buffer.Span[Position..], _verifyCrc, int.MaxValue, out int size);
        if (error != RecordBatchError.None)
        {
            Error = error;
            return false;
        }
        batch = new RecordBatch(_buffer.Slice(Position, size));
        Position += size;
        return true;
    }

    /// <summary>
    /// Checks the framing of the batch at the start of <paramref name="buffer"/> without decoding records:
    /// enough bytes, magic 2, batchLength within bounds and the buffer, codec id, CRC-32C when asked.
    /// <paramref name="batchSize"/> is set whenever batchLength was readable.
    /// </summary>
    public static RecordBatchError CheckBatch(ReadOnlySpan<byte> buffer, bool verifyCrc, int maxBatchSize, out int batchSize)
    {
        batchSize = 0;
        if (buffer.Length < RecordBatchLayout.LogOverhead) return RecordBatchError.Truncated;
        int batchLength = BinaryPrimitives.ReadInt32BigEndian(buffer[RecordBatchLayout.BatchLengthOffset..]);
        if (batchLength < 0) return RecordBatchError.InvalidBatchLength;
        if (buffer.Length > RecordBatchLayout.MagicOffset)
        {
            byte magic = buffer[RecordBatchLayout.MagicOffset];
            if (magic < RecordBatchLayout.CurrentMagic) return RecordBatchError.UnsupportedMagic;
            if (magic > RecordBatchLayout.CurrentMagic) return RecordBatchError.InvalidMagic;
        }
        if (batchLength < RecordBatchLayout.HeaderSize - RecordBatchLayout.LogOverhead) return RecordBatchError.InvalidBatchLength;
        long size = (long)batchLength + RecordBatchLayout.LogOverhead;
        if (size > int.MaxValue) return RecordBatchError.InvalidBatchLength;
        batchSize = (int)size;
        if (size > maxBatchSize) return RecordBatchError.BatchTooLarge;
        if (buffer.Length < size) return RecordBatchError.Truncated;
        var header = new RecordBatchHeader(buffer[..batchSize]);
        if (verifyCrc && header.ComputeCrc() != header.Crc) return RecordBatchError.CrcMismatch;
        if (!CompressionCodec.IsSupported(header.Compression)) return RecordBatchError.UnsupportedCompression;
        return RecordBatchError.None;
    }

    /// <summary>
    /// Validates a produce request's records for one partition: every batch framed and CRC-valid, at most/exactly one
    /// batch, no control batches, consistent producer fields, recordCount consistent with lastOffsetDelta and (cheaply,
    /// uncompressed only) with the records present; full decoding only with <see cref="RecordValidationOptions.ValidateRecords"/>.
    /// A partial batch is an error here (Truncated → CORRUPT_MESSAGE), unlike in fetch reads.
    /// </summary>
    public static RecordBatchError ValidateProducePayload(ReadOnlyMemory<byte> payload, RecordValidationOptions? options = null)
    {
        options ??= RecordValidationOptions.Default;
        if (payload.IsEmpty) return RecordBatchError.Empty;
        int batches = 0;
        int position = 0;
        List<Record>? scratch = null;
        while (position < payload.Length)
        {
            if (batches == 1 && options.RequireExactlyOneBatch) return RecordBatchError.NotExactlyOneBatch;
            var error = CheckBatch(payload.Span[position..], verifyCrc: true, options.MaxBatchSize, out int size);
            if (error != RecordBatchError.None) return error;
            var batch = new RecordBatch(payload.Slice(position, size));
            error = ValidateClientBatch(batch, options, ref scratch);
            if (error != RecordBatchError.None) return error;
            position += size;
            batches++;
        }
        return RecordBatchError.None;
    }

    private static RecordBatchError ValidateClientBatch(RecordBatch batch, RecordValidationOptions options, ref List<Record>? scratch)
    {
        var header = batch.Header;
        if (header.IsControl && !options.AllowControlBatches) return RecordBatchError.ControlBatchFromClient;
        int count = header.RecordCount;
        if (count <= 0 || header.LastOffsetDelta != count - 1) return RecordBatchError.RecordCountMismatch;
        if (header.IsTransactional && !header.HasProducerId) return RecordBatchError.InvalidProducerFields;
        if (header.HasProducerId && (header.ProducerEpoch < 0 || header.BaseSequence < 0))
            return RecordBatchError.InvalidProducerFields;

        if (options.ValidateRecords)
        {
            scratch ??= [];
            scratch.Clear();
            return batch.TryReadRecords(scratch, options.MaxDecompressedSize, requireDenseOffsets: true);
        }
        if (options.CheckUncompressedRecordCount && header.Compression == CompressionType.None)
        {
            ReadOnlySpan<byte> records = batch.RecordsPayload.Span;
            int seen = 0;
            while (!records.IsEmpty)
            {
                int n = Record.Skip(records);
                if (n <= 0) return RecordBatchError.InvalidRecord;
                records = records[n..];
                if (++seen > count) return RecordBatchError.RecordCountMismatch;
            }
            if (seen != count) return RecordBatchError.RecordCountMismatch;
        }
        return RecordBatchError.None;
    }
}
