using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

/// <summary>What the cleaner may do with one log now (Kafka's LogToClean).</summary>
internal readonly record struct CleanableSection(
    long FirstDirtyOffset,
    long FirstUncleanableOffset,
    long CleanBytes,
    long CleanableBytes,
    bool NeedCompactionNow)
{
    public double DirtyRatio => CleanBytes + CleanableBytes == 0 ? 0 : (double)CleanableBytes / (CleanBytes + CleanableBytes);
}

public sealed partial class PartitionLog
{
    // First offset not yet cleaned (cleaner-offset-checkpoint); -1 = never cleaned. Written by the cleaner, read anywhere.
    private long _firstDirtyOffset = -1;
    private long _lastCleanMs = -1;
    private long _latestDeleteHorizonMs = -1;
    private volatile CleanerStats? _lastCleanerStats;

    /// <summary>Cleaned share of the log for compacted topics: dirty bytes / (clean + dirty bytes) of the closed segments.</summary>
    public double DirtyRatio => ComputeCleanable(NowMs).DirtyRatio;

    /// <summary>When the cleaner last finished a pass over this log, or null.</summary>
    public DateTimeOffset? LastCleanTime
    {
        get
        {
            long ms = Interlocked.Read(ref _lastCleanMs);
            return ms < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
    }

    /// <summary>Statistics of the last cleaning pass (bytes read and written, duration), or null.</summary>
    public CleanerStats? LastCleanerStats => _lastCleanerStats;

    /// <summary>Everything below this offset has been through the cleaner at least once.</summary>
    public long FirstDirtyOffset
    {
        get
        {
            long dirty = Interlocked.Read(ref _firstDirtyOffset);
            long start = LogStartOffset;
            return dirty < start || dirty > LogEndOffset ? start : dirty;
        }
    }

    /// <summary>Largest delete horizon of the tombstones kept by the last pass (-1 if none): past it, a pass removes them.</summary>
    internal long LatestDeleteHorizonMs => Interlocked.Read(ref _latestDeleteHorizonMs);

    internal bool IsClosed => _closed;

    private void LoadCleanerCheckpoint()
    {
        if (CleanerCheckpoint.Read(_dir) is { } offset) _firstDirtyOffset = offset;
    }

    /// <summary>
    /// The section the cleaner may clean (Kafka's LogCleanerManager.cleanableOffsets): from the first dirty offset up to
    /// the first uncleanable one — the active segment, the last stable offset, and the first segment holding a record
    /// newer than min.compaction.lag.ms, whichever comes first.
    /// </summary>
    internal CleanableSection ComputeCleanable(long now)
    {
        var segments = _segments;
        var config = _config;
        long firstDirty = FirstDirtyOffset;
        long uncleanable = Math.Min(segments[^1].BaseOffset, LastStableOffset);
        if (config.MinCompactionLagMs > 0)
        {
            for (int i = 0; i < segments.Length - 1; i++)
            {
                if (segments[i + 1].BaseOffset <= firstDirty) continue;
                if (segments[i].LargestTimestamp > now - config.MinCompactionLagMs)
                {
                    uncleanable = Math.Min(uncleanable, segments[i].BaseOffset);
                    break;
                }
            }
        }
        uncleanable = Math.Max(uncleanable, firstDirty);
        long clean = 0, cleanable = 0;
        LogSegment? firstDirtySegment = null;
        for (int i = 0; i < segments.Length; i++)
        {
            long next = i + 1 < segments.Length ? segments[i + 1].BaseOffset : long.MaxValue;
            if (next <= firstDirty) clean += segments[i].Size;
            else if (segments[i].BaseOffset < uncleanable)
            {
                cleanable += segments[i].Size;
                firstDirtySegment ??= segments[i];
            }
        }
        bool now_ = false;
        if (config.MaxCompactionLagMs < long.MaxValue && cleanable > 0 && firstDirtySegment is not null)
        {
            try
            {
                var first = firstDirtySegment.FindPosition(firstDirty);
                long ts = first?.Batch.MaxTimestamp ?? -1;
                now_ = ts >= 0 && now - ts > config.MaxCompactionLagMs;
            }
            catch (ObjectDisposedException)
            {
            }
        }
        return new CleanableSection(firstDirty, uncleanable, clean, cleanable, now_);
    }

    /// <summary>Last data offset of every producer with state (Kafka keeps the batch holding it when cleaning).</summary>
    internal Dictionary<long, long> ActiveProducerLastOffsets()
    {
        lock (_appendLock) return _producers.LastOffsets();
    }

    internal LogSegment[] SegmentsSnapshot => _segments;

    /// <summary>
    /// Swaps <paramref name="replaced"/> (contiguous, still in the log) for the ".swap" segment <paramref name="cleaned"/>
    /// with Kafka's order: old segments renamed to ".deleted", the swap renamed to its final name, then the in-memory
    /// list published. Returns false, changing nothing, if the segments changed meanwhile (retention, truncation,
    /// deletion). Old files are removed after file.delete.delay.ms so readers holding them can finish.
    /// </summary>
    internal bool ReplaceSegments(LogSegment cleaned, IReadOnlyList<LogSegment> replaced, Action<CleanerStep>? fault)
    {
        lock (_appendLock)
        {
            if (_closed) return false;
            var segments = _segments;
            int at = Array.IndexOf(segments, replaced[0]);
            if (at < 0 || at + replaced.Count >= segments.Length) return false;
            for (int i = 0; i < replaced.Count; i++)
                if (!ReferenceEquals(segments[at + i], replaced[i])) return false;
            foreach (var s in replaced) s.AddSuffix(FileNames.DeletedSuffix);
            DurableFile.FsyncDirectory(_dir);
            fault?.Invoke(CleanerStep.OldRenamedToDeleted);
            cleaned.ReplaceSuffix(FileNames.SwapSuffix, "");
            DurableFile.FsyncDirectory(_dir);
            fault?.Invoke(CleanerStep.SwapRenamedToFinal);
            _segments = [.. segments[..at], cleaned, .. segments[(at + replaced.Count)..]];
            long delay = _config.FileDeleteDelayMs;
            foreach (var s in replaced) _deleter.Schedule(s, delay, alreadyRenamed: true);
            return true;
        }
    }

    /// <summary>Records a finished pass: the new first dirty offset (checkpointed), its stats and pending tombstone horizon.</summary>
    internal void OnCleaned(long firstDirtyOffset, long latestDeleteHorizonMs, CleanerStats stats)
    {
        lock (_appendLock)
        {
            if (_closed) return;
            // A truncation during the pass may have moved the end below the pass's end.
            firstDirtyOffset = Math.Min(firstDirtyOffset, _logEndOffset);
            Interlocked.Exchange(ref _firstDirtyOffset, firstDirtyOffset);
            CleanerCheckpoint.Write(_dir, Topic, Partition, firstDirtyOffset);
        }
        Interlocked.Exchange(ref _latestDeleteHorizonMs, latestDeleteHorizonMs);
        Interlocked.Exchange(ref _lastCleanMs, NowMs);
        _lastCleanerStats = stats;
        _logger.LogInformation(
            "Cleaned {Topic}-{Partition} up to offset {End}: {Segments} segments, {Read} bytes read, {Written} bytes written, {Records}/{Total} records kept, {Ms} ms ({MBps:F1} MB/s)",
            Topic, Partition, firstDirtyOffset, stats.SegmentsCleaned, stats.BytesRead, stats.BytesWritten, stats.RecordsRetained,
            stats.RecordsRead, (long)stats.Duration.TotalMilliseconds, stats.MegabytesPerSecond);
    }

    /// <summary>After a truncation the cleaned prefix cannot extend past the new end (caller holds the append lock).</summary>
    private void ClampFirstDirtyOffset(long logEndOffset)
    {
        if (Interlocked.Read(ref _firstDirtyOffset) > logEndOffset)
        {
            Interlocked.Exchange(ref _firstDirtyOffset, logEndOffset);
            CleanerCheckpoint.Write(_dir, Topic, Partition, logEndOffset);
        }
    }
}
