using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// A new leader epoch starts at <paramref name="startOffset"/> (the log end when this node becomes leader), so that
    /// followers asking OffsetsForLeaderEpoch for the previous epoch learn where it ended even before anything is
    /// appended in the new one (Kafka's maybeAssignEpochStartOffset). Ignored unless newer than the latest epoch.
    /// </summary>
    public void AssignEpochStartOffset(int epoch, long startOffset)
    {
        lock (_appendLock)
        {
            ThrowIfClosed();
            _epochs.Assign(epoch, Math.Min(startOffset, _logEndOffset));
        }
    }

    /// <summary>
    /// Discards the whole log and restarts it empty at <paramref name="offset"/>, which becomes the log start (a follower
    /// whose log ends before the leader's log start: it cannot catch up record by record; Kafka's truncateFullyAndStartAt).
    /// </summary>
    public void TruncateFullyAndStartAt(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_appendLock)
        {
            ThrowIfClosed();
            long now = NowMs;
            foreach (var s in _segments) _deleter.Schedule(s, 0);
            _segments = [LogSegment.Open(_dir, offset, _config, now)];
            Volatile.Write(ref _logEndOffset, offset);
            SetLogStartOffset(offset, allowBackwards: true);
            _flusher.ResetFlushedOffset(offset);
            ClampFirstDirtyOffset(offset);
            Volatile.Write(ref _highWatermark, offset);
            _epochs.TruncateFromEnd(0);
            _producers.DeleteSnapshotsAbove(-1);
            LoadProducerState();
            _logger.LogInformation("Truncated {Topic}-{Partition} fully and restarted it at offset {Offset}", Topic, Partition, offset);
        }
    }
}
