namespace Samsa.Protocol.Records;

/// <summary>Why a record batch or record is not acceptable. See <see cref="RecordBatchErrors.ToKafkaErrorCode"/>.</summary>
public enum RecordBatchError
{
    None = 0,
    /// <summary>The buffer ends inside a batch (normal at the tail of a fetch; corrupt in a produce request).</summary>
    Truncated,
    /// <summary>batchLength is smaller than a v2 header or negative.</summary>
    InvalidBatchLength,
    /// <summary>Magic 0 or 1: a legacy message set. Samsa only stores v2.</summary>
    UnsupportedMagic,
    /// <summary>Magic above 2: not a Kafka record batch at all.</summary>
    InvalidMagic,
    CrcMismatch,
    /// <summary>Compression codec id 5-7.</summary>
    UnsupportedCompression,
    /// <summary>Header recordCount disagrees with the records, or recordCount/lastOffsetDelta are inconsistent.</summary>
    RecordCountMismatch,
    /// <summary>A record does not decode (bad varints, lengths, headers, trailing bytes, offset deltas).</summary>
    InvalidRecord,
    /// <summary>The compressed payload does not decompress.</summary>
    DecompressionFailed,
    /// <summary>A batch (or its decompressed records) exceeds the caller's size limit.</summary>
    BatchTooLarge,
    /// <summary>A produce request must carry exactly one batch per partition (produce v3+).</summary>
    NotExactlyOneBatch,
    /// <summary>Clients may not write control batches.</summary>
    ControlBatchFromClient,
    /// <summary>Producer id, epoch, sequence or transactional flag are inconsistent.</summary>
    InvalidProducerFields,
    /// <summary>The payload holds no batch.</summary>
    Empty,
}

public static class RecordBatchErrors
{
    /// <summary>Kafka error codes the broker answers with (values from Kafka's Errors.java).</summary>
    public const short CorruptMessage = 2;
    public const short MessageTooLarge = 10;
    public const short UnsupportedForMessageFormat = 43;
    public const short UnsupportedCompressionType = 76;
    public const short InvalidRecord = 87;

    /// <summary>The Kafka error code a produce response carries for <paramref name="error"/> (0 for None).</summary>
    public static short ToKafkaErrorCode(this RecordBatchError error) => error switch
    {
        RecordBatchError.None => 0,
        RecordBatchError.UnsupportedMagic => UnsupportedForMessageFormat,
        RecordBatchError.BatchTooLarge => MessageTooLarge,
        RecordBatchError.UnsupportedCompression => UnsupportedCompressionType,
        RecordBatchError.RecordCountMismatch or RecordBatchError.InvalidRecord or RecordBatchError.NotExactlyOneBatch
            or RecordBatchError.ControlBatchFromClient or RecordBatchError.InvalidProducerFields
            or RecordBatchError.Empty => InvalidRecord,
        _ => CorruptMessage,
    };
}

/// <summary>A record batch or record is malformed; <see cref="Error"/> says how.</summary>
public sealed class RecordFormatException : Exception
{
    public RecordFormatException(RecordBatchError error, string message, Exception? inner = null)
        : base(message, inner) => Error = error;

    public RecordBatchError Error { get; }
}
