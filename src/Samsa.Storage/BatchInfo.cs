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
    bool IsTransactional)
{
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
