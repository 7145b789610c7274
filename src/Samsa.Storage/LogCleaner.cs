using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Samsa.Storage;

/// <summary>
/// The background log cleaner of compacted topics (cleanup.policy=compact or compact,delete), Kafka's LogCleaner +
/// LogCleanerManager: log.cleaner.threads threads each repeatedly take the filthiest log — the highest dirty ratio at or
/// above its min.cleanable.dirty.ratio, or any log whose oldest dirty record is older than max.compaction.lag.ms — and
/// clean it; when none qualifies, a log whose kept tombstones have passed their delete horizon is cleaned to drop them;
/// otherwise the thread sleeps log.cleaner.backoff.ms. A log is cleaned by one thread at a time. Each thread owns an
/// offset map of log.cleaner.dedupe.buffer.size / threads bytes, allocated on its first pass.
/// Thread-safety: all public members are safe to call concurrently.
/// </summary>
public sealed class LogCleaner : IDisposable
{
    private readonly Func<IEnumerable<PartitionLog>> _logs;
    private readonly CleanerConfig _config;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CleanerThrottle _throttle;
    private readonly Lock _lock = new();
    private readonly HashSet<PartitionLog> _inProgress = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _threads = new();
    private readonly Lazy<Cleaner> _foregroundCleaner;
    private long _passes;
    private long _bytesRead;
    private long _bytesWritten;
    private volatile CleanerStats? _lastPass;
    private bool _disposed;

    public LogCleaner(Func<IEnumerable<PartitionLog>> logs, CleanerConfig config, TimeProvider time, ILoggerFactory? loggerFactory = null)
    {
        _logs = logs;
        _config = config;
        _time = time;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<LogCleaner>();
        _throttle = new CleanerThrottle(config.IoMaxBytesPerSecond);
        _foregroundCleaner = new Lazy<Cleaner>(NewCleaner);
    }

    /// <summary>Called after each step of the swap protocol; tests throw from it to simulate a crash there.</summary>
    internal Action<CleanerStep>? Fault { get; set; }

    /// <summary>Completed cleaning passes since start.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Bytes read from dirty and clean segments by completed passes since start.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Bytes written to cleaned segments by completed passes since start.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Statistics of the most recent completed pass over any log, or null.</summary>
    public CleanerStats? LastPass => _lastPass;

    private long MapMemoryPerThread => Math.Max(1024 * 1024, _config.DedupeBufferSize / Math.Max(1, _config.Threads));

    private Cleaner NewCleaner() =>
        new(new OffsetMap(MapMemoryPerThread), _throttle, _config.IoBufferSize, _time, _logger);

    /// <summary>Starts the cleaner threads (none if disabled or log.cleaner.threads is 0).</summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_config.Enabled || _threads.Count > 0) return;
            for (int i = 0; i < _config.Threads; i++)
            {
                int id = i;
                _threads.Add(Task.Factory.StartNew(() => RunThread(id), _stopping.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    .Unwrap());
            }
        }
    }

    private async Task RunThread(int id)
    {
        Cleaner? cleaner = null;
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            bool cleaned = false;
            try
            {
                var target = GrabFilthiestLog();
                if (target is { } t)
                {
                    cleaner ??= NewCleaner();
                    cleaned = CleanLog(cleaner, t.Log, t.Section, token);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                _logger.LogError(e, "Cleaner thread {Id} failed", id);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (cleaned) continue;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(_config.BackoffMs), _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Cleans the filthiest log once on the calling thread; returns the stats, or null if no log needed cleaning.</summary>
    public CleanerStats? CleanOnce(CancellationToken cancellationToken = default)
    {
        var target = GrabFilthiestLog();
        if (target is not { } t) return null;
        lock (_foregroundCleaner) return CleanLog(_foregroundCleaner.Value, t.Log, t.Section, cancellationToken) ? t.Log.LastCleanerStats : null;
    }

    /// <summary>Cleans until no log needs cleaning (at most <paramref name="maxPasses"/> passes); returns the passes run.</summary>
    public int CleanUntilIdle(int maxPasses = 1000)
    {
        int passes = 0;
        while (passes < maxPasses && CleanOnce() is not null) passes++;
        return passes;
    }

    private bool CleanLog(Cleaner cleaner, PartitionLog log, CleanableSection section, CancellationToken token)
    {
        try
        {
            cleaner.Fault = Fault;
            var stats = cleaner.Clean(log, section, token);
            Interlocked.Add(ref _bytesRead, stats.BytesRead);
            Interlocked.Add(ref _bytesWritten, stats.BytesWritten);
            _lastPass = stats;
            Interlocked.Increment(ref _passes);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException || e is OperationCanceledException && !token.IsCancellationRequested)
        {
            // The log was deleted, closed, truncated or retention removed segments meanwhile: try again later.
            if (!log.IsClosed) _logger.LogWarning(e, "Cleaning {Log} was abandoned", log);
            return false;
        }
        finally
        {
            lock (_lock) _inProgress.Remove(log);
        }
    }

    /// <summary>Picks the log to clean and marks it in progress (Kafka's grabFilthiestCompactedLog).</summary>
    private (PartitionLog Log, CleanableSection Section)? GrabFilthiestLog()
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lock)
        {
            if (_disposed) return null;
            (PartitionLog Log, CleanableSection Section)? best = null;
            (PartitionLog Log, CleanableSection Section)? tombstones = null;
            foreach (var log in _logs())
            {
                if (!log.Config.CleanupCompact || log.IsClosed || _inProgress.Contains(log)) continue;
                CleanableSection section;
                try
                {
                    section = log.ComputeCleanable(now);
                }
                catch (ObjectDisposedException)
                {
                    continue;
                }
                bool eligible = section.CleanableBytes > 0 &&
                    (section.NeedCompactionNow || section.DirtyRatio >= log.Config.MinCleanableDirtyRatio);
                if (eligible)
                {
                    if (best is null || section.NeedCompactionNow && !best.Value.Section.NeedCompactionNow ||
                        section.NeedCompactionNow == best.Value.Section.NeedCompactionNow && section.DirtyRatio > best.Value.Section.DirtyRatio)
                        best = (log, section);
                }
                else if (tombstones is null && log.LatestDeleteHorizonMs >= 0 && log.LatestDeleteHorizonMs <= now)
                {
                    tombstones = (log, section);
                }
            }
            var chosen = best ?? tombstones;
            if (chosen is { } c) _inProgress.Add(c.Log);
            return chosen;
        }
    }

    /// <summary>Stops the threads, waiting for passes in progress to abandon (their temporary files are removed).</summary>
    public void Dispose()
    {
        Task[] threads;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _stopping.Cancel();
            threads = _threads.ToArray();
        }
        try
        {
            Task.WaitAll(threads);
        }
        catch (AggregateException e)
        {
            _logger.LogWarning(e, "A cleaner thread ended with an error");
        }
        _stopping.Dispose();
    }
}
