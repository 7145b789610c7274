namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Reads whole batches from the first one containing or after <paramref name="startOffset"/>, at most
    /// <paramref name="maxBytes"/> (or one whole batch if <paramref name="minOneBatch"/>), never a batch reaching
    /// <paramref name="maxOffsetExclusive"/> (pass the high watermark for consumers, LogEndOffset for followers).
    /// A read never spans segments. OffsetOutOfRange when startOffset is outside [LogStartOffset, LogEndOffset].
    /// </summary>
    public ReadResult Read(long startOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch)
    {
        for (int attempt = 0; ; attempt++)
        {
            // Segment list first: retention publishes the log start before the list, so this log start covers the list.
            var segments = _segments;
            long logStart = LogStartOffset;
            long logEnd = LogEndOffset;
            long hw = HighWatermark;
            if (startOffset < logStart || startOffset > logEnd)
                return new ReadResult(ReadError.OffsetOutOfRange, ReadOnlyMemory<byte>.Empty, logStart, logEnd, hw);
            if (startOffset == logEnd || startOffset >= maxOffsetExclusive || maxBytes <= 0 && !minOneBatch)
                return new ReadResult(ReadError.None, ReadOnlyMemory<byte>.Empty, logStart, logEnd, hw);
            try
            {
                for (int i = FloorSegment(segments, startOffset); i < segments.Length; i++)
                {
                    var records = segments[i].Read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch);
                    if (records is { } r) return new ReadResult(ReadError.None, r, logStart, logEnd, hw);
                }
                // A roll published after our snapshot may hold the offset: look again with the new list.
                if (attempt < 2 && !ReferenceEquals(segments, _segments)) continue;
                return new ReadResult(ReadError.None, ReadOnlyMemory<byte>.Empty, logStart, logEnd, hw);
            }
            catch (ObjectDisposedException) when (attempt == 0)
            {
                // The segment was deleted by retention under us: retry against the new segment list.
            }
        }
    }

    /// <summary>Index of the segment with the largest base offset ≤ <paramref name="offset"/> (0 if none).</summary>
    private static int FloorSegment(LogSegment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>
    /// The first offset whose batch has a timestamp ≥ <paramref name="timestamp"/> (ListOffsets), or null if none.
    /// Batches are not decompressed: the answer is the base offset of the first such batch, clamped to the log start.
    /// </summary>
    public long? OffsetForTimestamp(long timestamp)
    {
        var segments = _segments;
        long logStart = LogStartOffset;
        foreach (var segment in segments)
        {
            if (segment.MaxTimestamp < timestamp) continue;
            var (_, indexed) = segment.TimeIndex.Lookup(timestamp);
            long from = Math.Max(Math.Max(indexed, segment.BaseOffset), logStart);
            long? found = null;
            segment.ForEachBatch(from, b =>
            {
                if (b.MaxTimestamp < timestamp) return true;
                found = Math.Max(b.BaseOffset, logStart);
                return false;
            });
            if (found is not null) return found;
        }
        return null;
    }

    /// <summary>Offset and timestamp of the batch with the largest timestamp (ListOffsets MAX_TIMESTAMP), or (-1, -1).</summary>
    public (long Offset, long Timestamp) MaxTimestamp()
    {
        long ts = -1, offset = -1;
        foreach (var s in _segments)
        {
            if (s.MaxTimestamp > ts)
            {
                ts = s.MaxTimestamp;
                offset = s.OffsetOfMaxTimestamp;
            }
        }
        return (offset, ts);
    }
}
