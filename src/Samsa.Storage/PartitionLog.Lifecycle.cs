using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Completes once every offset below <paramref name="offset"/> is fsynced, i.e. <see cref="FlushedOffset"/> ≥ offset
    /// (exclusive, like FlushedOffset and LogEndOffset: pass <see cref="AppendResult.LastOffset"/> + 1).
    /// Concurrent waiters share fsyncs (group commit).
    /// </summary>
    public ValueTask WaitForFlushAsync(long offset, CancellationToken cancellationToken = default) =>
        _flusher.WaitAsync(offset, cancellationToken);

    /// <summary>Fsyncs everything appended so far.</summary>
    public void Flush() => _flusher.FlushNow();

    /// <summary>Interval flush policy / flush.ms: flushes when the oldest unflushed write is old enough. Returns true if flushed.</summary>
    public bool FlushIfDue()
    {
        if (Interlocked.Read(ref _unflushedMessages) == 0) return false;
        long intervalMs = Math.Min(_flushPolicy.Mode == LogFlushMode.Interval ? _flushPolicy.IntervalMs : long.MaxValue, _config.FlushMs);
        if (intervalMs == long.MaxValue || NowMs - Interlocked.Read(ref _lastFlushMs) < intervalMs) return false;
        Flush();
        return true;
    }

    /// <summary>One flush pass: fsyncs every segment that may hold unflushed data. Runs outside the append lock.</summary>
    private long FlushOnce()
    {
        long target;
        long messages;
        LogSegment[] dirty;
        lock (_appendLock)
        {
            target = _logEndOffset;
            messages = _unflushedMessages;
            long flushed = _flusher.FlushedOffset;
            var segments = _segments;
            int first = FloorSegment(segments, flushed);
            dirty = segments[first..];
        }
        foreach (var s in dirty)
        {
            try
            {
                s.Flush();
            }
            catch (ObjectDisposedException)
            {
                // Deleted by retention or truncation meanwhile: nothing to make durable.
            }
        }
        Interlocked.Add(ref _unflushedMessages, -messages);
        Interlocked.Exchange(ref _lastFlushMs, NowMs);
        return Math.Min(target, LogEndOffset);
    }

    public void UpdateConfig(LogConfig config) => _config = config;

    /// <summary>Loads the newest producer snapshot not beyond the log end and replays the batches after it.</summary>
    private void LoadProducerState()
    {
        long logEnd = _logEndOffset;
        long from = _producers.LoadLatestSnapshot(logEnd) ?? _logStartOffset;
        from = Math.Max(from, _logStartOffset);
        int replayed = 0;
        var segments = _segments;
        // Aborted-transaction entries from the replayed range are re-appended by the replay (they may be torn or missing
        // after a crash); entries below it are covered by the snapshot's state.
        for (int i = FloorSegment(segments, from); i < segments.Length; i++) segments[i].TxnIndex.TruncateTo(from);
        for (int i = FloorSegment(segments, from); i < segments.Length && from < logEnd; i++)
        {
            var segment = segments[i];
            segment.ForEachBatch(from, b =>
            {
                if (b.LastOffset < from) return true;
                if (_producers.Replay(b) is { } aborted) segment.TxnIndex.Append(aborted);
                replayed++;
                return true;
            });
        }
        if (replayed > 0)
            _logger.LogInformation("Rebuilt producer state of {Topic}-{Partition} from offset {From} ({Batches} batches, {Producers} producers)",
                Topic, Partition, from, replayed, _producers.ProducerCount);
    }

    /// <summary>Clean shutdown: flush, snapshot producer state, write the clean-shutdown marker, close files.</summary>
    public void Close()
    {
        lock (_appendLock)
        {
            if (_closed) return;
        }
        Flush();
        lock (_appendLock)
        {
            if (_closed) return;
            _closed = true;
            _segments[^1].OnBecomeInactive();
            foreach (var s in _segments) s.Flush();
            _producers.WriteSnapshot(_logEndOffset);
            _producers.DeleteSnapshotsBefore(_logEndOffset);
            _deleter.DeleteAllNow();
            foreach (var s in _segments) s.Dispose();
            DurableFile.WriteAtomically(Path.Combine(_dir, FileNames.CleanShutdownFile), "");
        }
        _flusher.FailAll(new ObjectDisposedException($"{Topic}-{Partition}", "The log was closed."));
    }

    /// <summary>Closes the log without a clean marker and removes its directory.</summary>
    public void Delete()
    {
        lock (_appendLock)
        {
            _closed = true;
            _deleter.DeleteAllNow();
            foreach (var s in _segments) s.Dispose();
        }
        _flusher.FailAll(new ObjectDisposedException($"{Topic}-{Partition}", "The log was deleted."));
        System.IO.Directory.Delete(_dir, recursive: true);
        _logger.LogInformation("Deleted log {Topic}-{Partition}", Topic, Partition);
    }

    public void Dispose() => Close();
}
