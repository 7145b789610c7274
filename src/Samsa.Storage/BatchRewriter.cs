using System.Buffers;
using System.Buffers.Binary;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>
/// Writes the batches a cleaning pass keeps, as Kafka's MemoryRecords.filterTo does: a batch that lost records is rebuilt
/// with the original header (base offset, last offset delta — so the producer's last sequence survives —, leader epoch,
/// producer id/epoch/base sequence, transactional/control flags, compression); a batch that lost every record is
/// either dropped or, when it is the last batch of a live idempotent producer, kept as an empty header (record count 0).
/// When a kept batch holds tombstones and has no delete horizon yet, the horizon is set: attribute bit 6 and the base
/// timestamp become the horizon, and record timestamp deltas are rebased onto it (message format v2, KIP-534).
/// </summary>
internal static class BatchRewriter
{
    public static bool HasDeleteHorizon(in RecordBatchHeader h) => (h.Attributes & RecordBatchLayout.DeleteHorizonFlag) != 0;

    /// <summary>Appends a rebuilt batch holding <paramref name="retained"/> (a non-empty subset of <paramref name="original"/>'s records).</summary>
    public static void WriteRetained(ReadOnlySpan<byte> original, List<Record> retained, long deleteHorizonMs,
        ArrayBufferWriter<byte> destination, ArrayBufferWriter<byte> scratch)
    {
        var h = new RecordBatchHeader(original);
        long originalBase = h.BaseTimestamp;
        long newBase = deleteHorizonMs >= 0 ? deleteHorizonMs : originalBase + retained[0].TimestampDelta;
        long maxTimestamp = long.MinValue;
        scratch.ResetWrittenCount();
        foreach (var r in retained)
        {
            long ts = originalBase + r.TimestampDelta;
            maxTimestamp = Math.Max(maxTimestamp, ts);
            new Record(r.OffsetDelta, ts - newBase, r.Key, r.Value, r.Headers, r.Attributes).WriteTo(scratch);
        }
        if (h.TimestampType == TimestampType.LogAppendTime) maxTimestamp = h.MaxTimestamp;

        var compression = h.Compression;
        ReadOnlySpan<byte> payload = scratch.WrittenSpan;
        ArrayBufferWriter<byte>? compressed = null;
        if (compression != CompressionType.None)
        {
            compressed = new ArrayBufferWriter<byte>(Math.Max(256, payload.Length / 2));
            CompressionCodec.Compress(compression, payload, compressed);
            payload = compressed.WrittenSpan;
        }
        int size = RecordBatchLayout.HeaderSize + payload.Length;
        var batch = destination.GetSpan(size)[..size];
        original[..RecordBatchLayout.HeaderSize].CopyTo(batch);
        short attributes = h.Attributes;
        if (deleteHorizonMs >= 0) attributes |= RecordBatchLayout.DeleteHorizonFlag;
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.BatchLengthOffset..], size - RecordBatchLayout.LogOverhead);
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchLayout.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.BaseTimestampOffset..], newBase);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.MaxTimestampOffset..], maxTimestamp);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.RecordCountOffset..], retained.Count);
        payload.CopyTo(batch[RecordBatchLayout.HeaderSize..]);
        RecordBatchPatch.RecomputeCrc(batch);
        destination.Advance(size);
    }

    /// <summary>
    /// Appends the header of <paramref name="original"/> with no records (Kafka's writeEmptyHeader): it keeps the
    /// producer id, epoch, base sequence and last offset delta, so the producer's last sequence stays in the log.
    /// </summary>
    public static void WriteEmpty(ReadOnlySpan<byte> original, ArrayBufferWriter<byte> destination)
    {
        var h = new RecordBatchHeader(original);
        var batch = destination.GetSpan(RecordBatchLayout.HeaderSize)[..RecordBatchLayout.HeaderSize];
        original[..RecordBatchLayout.HeaderSize].CopyTo(batch);
        short attributes = (short)(h.Attributes & ~(RecordBatchLayout.CompressionMask | RecordBatchLayout.DeleteHorizonFlag));
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.BatchLengthOffset..], RecordBatchLayout.HeaderSize - RecordBatchLayout.LogOverhead);
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchLayout.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchLayout.BaseTimestampOffset..], h.MaxTimestamp);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatchLayout.RecordCountOffset..], 0);
        RecordBatchPatch.RecomputeCrc(batch);
        destination.Advance(RecordBatchLayout.HeaderSize);
    }
}
