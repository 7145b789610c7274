using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Applies retention: segments wholly below the log start offset, then (cleanup.policy=delete) segments whose
    /// largest timestamp is older than retention.ms and the oldest segments while the log exceeds retention.bytes.
    /// Only a prefix of the log is deleted. When every segment including the active one has expired by time, a new empty
    /// active segment is rolled first, as Kafka does, so an idle topic empties. Returns the number of segments deleted.
    /// </summary>
    public int DeleteOldSegments()
    {
        lock (_appendLock)
        {
            if (_closed) return 0;
            var config = _config;
            long now = NowMs;
            var segments = _segments;
            int count = 0;
            while (count < segments.Length - 1 && segments[count + 1].BaseOffset <= _logStartOffset) count++;
            string reason = "log start offset";
            if (config.CleanupDelete && config.RetentionMs >= 0)
            {
                int byTime = count;
                while (byTime < segments.Length && now - segments[byTime].LargestTimestamp > config.RetentionMs) byTime++;
                if (byTime == segments.Length && !segments[^1].IsEmpty && HighWatermark >= _logEndOffset)
                {
                    Roll(now, _logEndOffset);
                    segments = _segments;
                }
                byTime = Math.Min(byTime, segments.Length - 1);
                if (byTime > count) (count, reason) = (byTime, $"retention.ms {config.RetentionMs}");
            }
            if (config.CleanupDelete && config.RetentionBytes >= 0)
            {
                long excess = segments.Sum(s => s.Size) - config.RetentionBytes;
                for (int i = 0; i < count; i++) excess -= segments[i].Size;
                int bySize = count;
                while (bySize < segments.Length - 1 && excess - segments[bySize].Size >= 0)
                {
                    excess -= segments[bySize].Size;
                    bySize++;
                }
                if (bySize > count) (count, reason) = (bySize, $"retention.bytes {config.RetentionBytes}");
            }
            // As Kafka: never delete data at or above the high watermark (not yet durable / visible), so the log start
            // offset can never pass it.
            long hw = HighWatermark;
            while (count > 0 && segments[count].BaseOffset > hw) count--;
            if (count == 0) return 0;
            DeleteSegmentPrefix(count, reason);
            return count;
        }
    }

    /// <summary>
    /// DeleteRecords: moves the log start offset to <paramref name="offset"/> (which must be ≤ the high watermark) and
    /// deletes segments entirely below it. Returns the new log start offset.
    /// </summary>
    public long DeleteRecordsBefore(long offset)
    {
        lock (_appendLock)
        {
            ThrowIfClosed();
            if (offset > HighWatermark)
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Cannot delete records above the high watermark {HighWatermark}.");
            if (offset <= _logStartOffset) return _logStartOffset;
            SetLogStartOffset(offset);
            var segments = _segments;
            int count = 0;
            while (count < segments.Length - 1 && segments[count + 1].BaseOffset <= offset) count++;
            if (count > 0) DeleteSegmentPrefix(count, $"DeleteRecords before {offset}");
            return _logStartOffset;
        }
    }

    /// <summary>
    /// Truncates the log to end at <paramref name="offset"/> (exclusive) for a follower that diverged from its leader.
    /// A batch straddling the offset is removed whole. Producer state is rebuilt from the latest snapshot below it.
    /// </summary>
    public void Truncate(long offset)
    {
        lock (_appendLock)
        {
            ThrowIfClosed();
            if (offset >= _logEndOffset) return;
            var segments = _segments;
            long now = NowMs;
            if (offset <= segments[0].BaseOffset)
            {
                foreach (var s in segments) _deleter.Schedule(s, 0);
                _segments = [LogSegment.Open(_dir, offset, _config, now)];
                Volatile.Write(ref _logEndOffset, offset);
                SetLogStartOffset(offset, allowBackwards: true);
            }
            else
            {
                int keep = FloorSegment(segments, offset);
                if (segments[keep].BaseOffset == offset && keep > 0) keep--;
                for (int i = keep + 1; i < segments.Length; i++) _deleter.Schedule(segments[i], 0);
                long removed = segments[keep].TruncateTo(offset);
                _segments = segments[..(keep + 1)];
                Volatile.Write(ref _logEndOffset, _segments[^1].NextOffset);
                _logger.LogInformation("Truncated {Topic}-{Partition} to offset {Offset} ({Bytes} bytes of its last segment removed)",
                    Topic, Partition, _logEndOffset, removed);
            }
            _flusher.ResetFlushedOffset(_logEndOffset);
            ClampFirstDirtyOffset(_logEndOffset);
            HighWatermark = Math.Min(HighWatermark, _logEndOffset);
            _epochs.TruncateFromEnd(_logEndOffset);
            _producers.DeleteSnapshotsAbove(_logEndOffset);
            LoadProducerState();
        }
    }

    /// <summary>Caller holds the append lock; never removes the last segment.</summary>
    private void DeleteSegmentPrefix(int count, string reason)
    {
        var segments = _segments;
        var doomed = segments[..count];
        // Log start moves before the segment list so a reader that sees the new list also sees the new log start.
        if (segments[count].BaseOffset > _logStartOffset) SetLogStartOffset(segments[count].BaseOffset);
        _segments = segments[count..];
        long delay = _config.FileDeleteDelayMs;
        foreach (var s in doomed)
        {
            _logger.LogInformation("Deleting segment {Segment} of {Topic}-{Partition} ({Bytes} bytes) due to {Reason}",
                s.BaseOffset, Topic, Partition, s.Size, reason);
            _deleter.Schedule(s, delay);
        }
        _producers.DeleteSnapshotsBefore(_segments[0].BaseOffset);
    }

    private void SetLogStartOffset(long offset, bool allowBackwards = false)
    {
        if (!allowBackwards && offset <= _logStartOffset) return;
        Volatile.Write(ref _logStartOffset, offset);
        if (HighWatermark < offset) Volatile.Write(ref _highWatermark, offset);
        _epochs.TruncateFromStart(offset);
        LogRecovery.WriteLogStartOffset(_dir, Topic, Partition, offset);
    }
}
