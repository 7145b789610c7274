using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>The header fields of one v2 batch the storage layer needs, copied out of the bytes.</summary>
internal readonly record struct BatchInfo(
    long BaseOffset,
    long LastOffset,
    int Size,
    int PartitionLeaderEpoch,
    long MaxTimestamp,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    int LastSequence,
    int RecordCount,
    bool IsControl,
    bool IsTransactional,
    short ControlType = -1)
{
    /// <summary>An end-transaction marker whose type was read (<see cref="WithControlType"/>): COMMIT or ABORT.</summary>
    public bool IsTxnMarker => IsControl && ControlType is (short)Samsa.Protocol.Records.ControlRecordType.Abort or (short)Samsa.Protocol.Records.ControlRecordType.Commit;

    public bool IsAbortMarker => IsControl && ControlType == (short)Samsa.Protocol.Records.ControlRecordType.Abort;

    /// <summary>This header with <see cref="ControlType"/> read from the whole batch <paramref name="batch"/> (control batches only).</summary>
    public BatchInfo WithControlType(ReadOnlySpan<byte> batch) => IsControl ? this with { ControlType = ReadControlType(batch) } : this;

    /// <summary>
    /// The type in the key of the first record of a whole control batch (0 ABORT, 1 COMMIT, ...), or -1 when it cannot be
    /// read. Control batches hold one tiny record, so decoding it costs little.
    /// </summary>
    public static short ReadControlType(ReadOnlySpan<byte> batch)
    {
        var h = new RecordBatchHeader(batch);
        if (!h.IsControl || h.RecordCount < 1 || batch.Length < h.SizeInBytes) return -1;
        var records = new List<Record>(1);
        if (new RecordBatch(batch[..h.SizeInBytes].ToArray()).TryReadRecords(records) != RecordBatchError.None || records.Count == 0) return -1;
        return records[0].Key is { } key && EndTransactionMarker.TryParseType(key.Span, out var type) ? (short)type : (short)-1;
    }

    public static BatchInfo From(ReadOnlySpan<byte> header)
    {
        var h = new RecordBatchHeader(header);
        return new BatchInfo(h.BaseOffset, h.LastOffset, h.SizeInBytes, h.PartitionLeaderEpoch, h.MaxTimestamp,
            h.ProducerId, h.ProducerEpoch, h.BaseSequence, h.LastSequence, h.RecordCount, h.IsControl, h.IsTransactional);
    }

    /// <summary>
    /// Structural check of a header (without CRC): magic 2, a length that covers the header, a non-negative offset delta.
    /// </summary>
    public static bool IsStructurallyValid(ReadOnlySpan<byte> header, out string reason)
    {
        var h = new RecordBatchHeader(header);
        if (h.BatchLength < RecordBatchLayout.HeaderSize - RecordBatchLayout.LogOverhead)
        {
            reason = $"batch length {h.BatchLength} is smaller than a batch header";
            return false;
        }
        if (h.Magic != RecordBatchLayout.CurrentMagic)
        {
            reason = $"magic {h.Magic} is not 2";
            return false;
        }
        if (h.LastOffsetDelta < 0 || h.BaseOffset < 0)
        {
            reason = $"invalid offsets (base {h.BaseOffset}, last delta {h.LastOffsetDelta})";
            return false;
        }
        reason = "";
        return true;
    }
}
