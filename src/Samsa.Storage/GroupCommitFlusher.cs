namespace Samsa.Storage;

/// <summary>
/// Group commit for one log: callers wait for an offset to become durable; a single flush pass at a time fsyncs
/// everything written so far and releases every waiter it covers. Waiters that arrive during an fsync are served by
/// the next pass, so N concurrent writers cost far fewer than N fsyncs.
/// Thread-safety: all members are safe to call concurrently. The flush delegate is never run concurrently with itself.
/// </summary>
internal sealed class GroupCommitFlusher
{
    private readonly object _lock = new();
    private readonly Func<long> _flushOnce;
    private readonly Func<long> _logEndOffset;
    private readonly List<(long Offset, TaskCompletionSource Done)> _waiters = new();
    private bool _running;
    private bool _requested;
    private long _flushedOffset;
    private long _flushCount;

    // After a failed fsync the kernel may have dropped the dirty pages and a later fsync would "succeed" over lost
    // data (fsyncgate). So the first failure is sticky: nothing is reported durable again until the log is reopened
    // (and recovered), as Kafka takes the log directory offline.
    private Exception? _failure;

    /// <param name="flushOnce">fsyncs all written data and returns the new flushed offset (exclusive).</param>
    /// <param name="logEndOffset">current log end offset, to know whether a waiter can be served yet.</param>
    public GroupCommitFlusher(long flushedOffset, Func<long> flushOnce, Func<long> logEndOffset)
    {
        _flushedOffset = flushedOffset;
        _flushOnce = flushOnce;
        _logEndOffset = logEndOffset;
    }

    /// <summary>Exclusive: every offset below it is durable.</summary>
    public long FlushedOffset => Volatile.Read(ref _flushedOffset);

    /// <summary>Number of flush passes (each fsyncs the dirty segment files once).</summary>
    public long FlushCount => Interlocked.Read(ref _flushCount);

    /// <summary>Completes when every offset below <paramref name="offset"/> is durable (FlushedOffset ≥ offset).</summary>
    public ValueTask WaitAsync(long offset, CancellationToken cancellationToken)
    {
        if (offset <= FlushedOffset) return default;
        if (Volatile.Read(ref _failure) is { } failed)
            return ValueTask.FromException(new IOException("An earlier fsync of this log failed; it must be reopened.", failed));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiters.Add((offset, done));
            StartIfIdle();
        }
        return new ValueTask(cancellationToken.CanBeCanceled ? done.Task.WaitAsync(cancellationToken) : done.Task);
    }

    /// <summary>Asks for a flush pass in the background even if nobody waits (interval flush policy).</summary>
    public void Request()
    {
        lock (_lock)
        {
            _requested = true;
            StartIfIdle();
        }
    }

    /// <summary>Called after an append: waiters for offsets that did not exist yet may now be served.</summary>
    public void OnAppended()
    {
        lock (_lock)
        {
            if (_waiters.Count > 0) StartIfIdle();
        }
    }

    /// <summary>Runs one flush pass on the calling thread (waits for a running pass to finish first).</summary>
    public void FlushNow()
    {
        lock (_lock)
        {
            while (_running) Monitor.Wait(_lock);
            _running = true;
        }
        try
        {
            RunPass();
        }
        finally
        {
            lock (_lock)
            {
                _running = false;
                Monitor.PulseAll(_lock);
                if (_waiters.Count > 0 || _requested) StartIfIdle();
            }
        }
    }

    /// <summary>After truncation the flushed offset may move back.</summary>
    public void ResetFlushedOffset(long offset)
    {
        lock (_lock) Volatile.Write(ref _flushedOffset, Math.Min(_flushedOffset, offset));
    }

    /// <summary>Fails every waiter (log closed or deleted).</summary>
    public void FailAll(Exception error)
    {
        lock (_lock)
        {
            foreach (var (_, done) in _waiters) done.TrySetException(error);
            _waiters.Clear();
        }
    }

    private void StartIfIdle()
    {
        if (_running) return;
        _running = true;
        _ = Task.Run(Loop);
    }

    private void Loop()
    {
        while (true)
        {
            lock (_lock)
            {
                long leo = _logEndOffset();
                bool servable = _requested || _waiters.Exists(w => w.Offset <= leo);
                if (!servable)
                {
                    _running = false;
                    Monitor.PulseAll(_lock);
                    return;
                }
                _requested = false;
            }
            RunPass();
        }
    }

    private void RunPass()
    {
        Exception? error = Volatile.Read(ref _failure);
        if (error is null)
        {
            try
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                long flushed = _flushOnce();
                StorageMetrics.OnFlushCompleted(System.Diagnostics.Stopwatch.GetElapsedTime(started));
                Interlocked.Increment(ref _flushCount);
                lock (_lock)
                {
                    if (flushed > _flushedOffset) Volatile.Write(ref _flushedOffset, flushed);
                }
            }
            catch (Exception e)
            {
                error = e;
                Interlocked.CompareExchange(ref _failure, e, null);
            }
        }
        List<TaskCompletionSource> ready = new();
        lock (_lock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (error is null && _waiters[i].Offset > _flushedOffset) continue;
                ready.Add(_waiters[i].Done);
                _waiters.RemoveAt(i);
            }
        }
        foreach (var done in ready)
        {
            if (error is null) done.TrySetResult();
            else done.TrySetException(new IOException("Flushing the log failed.", error));
        }
    }
}
