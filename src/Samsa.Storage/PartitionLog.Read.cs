using System.Buffers;
using System.Runtime.InteropServices;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Reads whole batches from the first one containing or after <paramref name="startOffset"/>, at most
    /// <paramref name="maxBytes"/> (or one whole batch if <paramref name="minOneBatch"/>), never a batch reaching
    /// <paramref name="maxOffsetExclusive"/> (pass the high watermark for consumers, LogEndOffset for followers).
    /// A read never spans segments. OffsetOutOfRange when startOffset is outside [LogStartOffset, LogEndOffset].
    /// </summary>
    public ReadResult Read(long startOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch) =>
        Read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch, pool: null);

    /// <summary>
    /// <see cref="Read(long, int, long, bool)"/> into a buffer rented from <see cref="ArrayPool{T}.Shared"/> instead of a
    /// fresh array, for the fetch path (a fresh array of up to max.partition.fetch.bytes per fetch lands on the large-object
    /// heap). When <see cref="ReadResult.Records"/> is not empty, <paramref name="buffer"/> owns it: the caller disposes
    /// it once nothing reads the records any more (after the response is written), and not before; disposing twice is
    /// harmless. Otherwise it is null.
    /// </summary>
    public ReadResult ReadPooled(long startOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch, out IMemoryOwner<byte>? buffer)
    {
        var result = Read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch, ArrayPool<byte>.Shared);
        buffer = result.Records.IsEmpty ? null : new PooledRecords(result.Records);
        return result;
    }

    private ReadResult Read(long startOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch, ArrayPool<byte>? pool)
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
                    var records = segments[i].Read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch, pool);
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

/// <summary>
/// Records at the start of an array rented from <see cref="ArrayPool{T}.Shared"/>. Dispose returns the array once (later
/// calls do nothing); <see cref="Memory"/> must not be used after that.
/// </summary>
internal sealed class PooledRecords(ReadOnlyMemory<byte> records) : IMemoryOwner<byte>
{
    private byte[]? _array = MemoryMarshal.TryGetArray(records, out var segment) && segment.Offset == 0
        ? segment.Array
        : throw new ArgumentException("Records must start at index 0 of a rented array.", nameof(records));

    public Memory<byte> Memory { get; } = MemoryMarshal.AsMemory(records);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is { } array) ArrayPool<byte>.Shared.Return(array);
    }
}
