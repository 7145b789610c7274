namespace Samsa.Storage;

/// <summary>Why an append was rejected; the broker maps each to a Kafka error code.</summary>
public enum AppendError
{
    None = 0,
    /// <summary>OUT_OF_ORDER_SEQUENCE_NUMBER (45).</summary>
    OutOfOrderSequence,
    /// <summary>INVALID_PRODUCER_EPOCH (47).</summary>
    InvalidProducerEpoch,
    /// <summary>CORRUPT_MESSAGE (2): a batch is malformed (length, magic, offsets).</summary>
    CorruptMessage,
    /// <summary>MESSAGE_TOO_LARGE (10): a batch exceeds max.message.bytes, or a batch is larger than a segment.</summary>
    MessageTooLarge,
    /// <summary>OFFSET_OUT_OF_RANGE (1) for follower appends whose offsets do not follow the log end.</summary>
    OffsetOutOfRange,
    /// <summary>KAFKA_STORAGE_ERROR (56): the write failed with an I/O error.</summary>
    StorageError,
    /// <summary>
    /// INVALID_TXN_STATE (48): a client wrote a control batch, or a producer with an open transaction wrote non-transactional data.
    /// </summary>
    InvalidTxnState,
}

/// <summary>Result of an append. Offsets are those of the first and last record appended (or of the duplicate).</summary>
public readonly record struct AppendResult(
    AppendError Error,
    long BaseOffset,
    long LastOffset,
    long LogAppendTime,
    long LogStartOffset,
    bool Duplicate,
    int RecordCount)
{
    public bool IsSuccess => Error == AppendError.None;

    internal static AppendResult Failed(AppendError error, long logStartOffset) =>
        new(error, -1, -1, -1, logStartOffset, false, 0);
}

public enum ReadError
{
    None = 0,
    /// <summary>OFFSET_OUT_OF_RANGE (1): the start offset is below the log start or above the log end.</summary>
    OffsetOutOfRange,
}

/// <summary>
/// Whole v2 batches read from the log. <see cref="Records"/> is a fresh array owned by the caller (or, from
/// <see cref="PartitionLog.ReadPooled"/>, a rented buffer the caller disposes), so it
/// stays valid after segments are deleted. The first batch may begin before the requested offset (batches are not split).
/// </summary>
public readonly record struct ReadResult(
    ReadError Error,
    ReadOnlyMemory<byte> Records,
    long LogStartOffset,
    long LogEndOffset,
    long HighWatermark);
