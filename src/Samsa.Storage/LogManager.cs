using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Samsa.Storage;

/// <summary>
/// Owns every partition log under the broker's log.dirs: loads existing partition directories at construction (in
/// parallel), creates new ones in the directory holding the fewest partitions, deletes them, and runs the periodic
/// retention check (log.retention.check.interval.ms) and, for the interval flush policy, the flush check.
/// Thread-safety: all members are safe to call concurrently.
/// </summary>
public sealed class LogManager : IDisposable
{
    /// <summary>KRaft's metadata partition directory name; never loaded as a data partition.</summary>
    private const string ClusterMetadataDir = "__cluster_metadata-0";

    private readonly ConcurrentDictionary<(string Topic, int Partition), PartitionLog> _logs = new();
    private readonly Lock _createLock = new();
    private readonly IReadOnlyList<string> _logDirs;
    private readonly LogFlushPolicy _flush;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _background = new();
    private readonly Func<string, LogConfig> _configForExisting;
    private LogCleaner? _cleaner;
    private bool _closed;

    /// <param name="configForExisting">config of a topic whose log is found on disk (default: <see cref="LogConfig.Default"/>);
    /// <see cref="GetOrCreate"/> later replaces it with the effective config.</param>
    public LogManager(IReadOnlyList<string> logDirs, LogFlushPolicy flush, TimeProvider time, ILoggerFactory? loggerFactory = null,
        Func<string, LogConfig>? configForExisting = null)
    {
        if (logDirs.Count == 0) throw new ArgumentException("At least one log directory is required.", nameof(logDirs));
        _logDirs = logDirs.Select(Path.GetFullPath).ToArray();
        _flush = flush;
        _time = time;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<LogManager>();
        _configForExisting = configForExisting ?? (_ => LogConfig.Default);
        LoadExisting();
    }

    public IReadOnlyList<string> LogDirs => _logDirs;

    private void LoadExisting()
    {
        var found = new List<(string Dir, string Topic, int Partition)>();
        foreach (var root in _logDirs)
        {
            Directory.CreateDirectory(root);
            foreach (var dir in Directory.EnumerateDirectories(root))
            {
                string name = Path.GetFileName(dir);
                if (name.EndsWith("-delete", StringComparison.Ordinal))
                {
                    // A partition whose deletion was interrupted (Kafka renames to "<tp>.<id>-delete" first).
                    Directory.Delete(dir, recursive: true);
                    continue;
                }
                if (name == ClusterMetadataDir || name.StartsWith('.') || !FileNames.TryParsePartitionDir(name, out var topic, out int partition))
                    continue;
                found.Add((dir, topic, partition));
            }
        }
        var started = _time.GetTimestamp();
        Parallel.ForEach(found, f =>
        {
            var log = PartitionLog.Open(f.Dir, f.Topic, f.Partition, _configForExisting(f.Topic), _flush, _time,
                _loggerFactory.CreateLogger<PartitionLog>());
            if (!_logs.TryAdd((f.Topic, f.Partition), log))
            {
                _logger.LogError("Partition {Topic}-{Partition} exists in more than one log directory; keeping the first", f.Topic, f.Partition);
                log.Close();
            }
        });
        _logger.LogInformation("Loaded {Count} partition logs from {Dirs} in {Elapsed} ms", found.Count, string.Join(",", _logDirs),
            (long)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>The log of a partition, created (with its partition.metadata) if it does not exist; its config is set to <paramref name="config"/>.</summary>
    public PartitionLog GetOrCreate(string topic, int partition, LogConfig config, Guid topicId = default)
    {
        if (_logs.TryGetValue((topic, partition), out var existing))
        {
            existing.UpdateConfig(config);
            return existing;
        }
        lock (_createLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_logs.TryGetValue((topic, partition), out existing))
            {
                existing.UpdateConfig(config);
                return existing;
            }
            string root = _logDirs.OrderBy(d => _logs.Values.Count(l => l.Directory.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal))).First();
            string dir = Path.Combine(root, FileNames.PartitionDirName(topic, partition));
            var log = PartitionLog.Open(dir, topic, partition, config, _flush, _time, _loggerFactory.CreateLogger<PartitionLog>());
            if (topicId != Guid.Empty && PartitionMetadataFile.Read(dir) != topicId) PartitionMetadataFile.Write(dir, topicId);
            _logs[(topic, partition)] = log;
            return log;
        }
    }

    public PartitionLog? Get(string topic, int partition) => _logs.GetValueOrDefault((topic, partition));

    public IEnumerable<(string Topic, int Partition)> AllPartitions() => _logs.Keys;

    public IEnumerable<PartitionLog> AllLogs() => _logs.Values;

    /// <summary>Closes and removes one partition's log from disk. Returns false if there was none.</summary>
    public bool Delete(string topic, int partition)
    {
        if (!_logs.TryRemove((topic, partition), out var log)) return false;
        log.Delete();
        return true;
    }

    /// <summary>Deletes every partition log of <paramref name="topic"/>; returns how many.</summary>
    public int DeleteTopicPartitions(string topic) =>
        _logs.Keys.Where(k => k.Topic == topic).ToList().Count(k => Delete(k.Topic, k.Partition));

    /// <summary>Applies retention to every log once; returns the number of segments deleted.</summary>
    public int RunRetentionOnce()
    {
        int deleted = 0;
        foreach (var log in _logs.Values)
        {
            try
            {
                deleted += log.DeleteOldSegments();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _logger.LogWarning(e, "Retention of {Topic}-{Partition} failed", log.Topic, log.Partition);
            }
        }
        return deleted;
    }

    /// <summary>Flushes logs whose flush interval (policy or flush.ms) has passed; returns how many were flushed.</summary>
    public int FlushDueLogs()
    {
        int flushed = 0;
        foreach (var log in _logs.Values)
        {
            try
            {
                if (log.FlushIfDue()) flushed++;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _logger.LogWarning(e, "Flush of {Topic}-{Partition} failed", log.Topic, log.Partition);
            }
        }
        return flushed;
    }

    /// <summary>
    /// Starts the retention loop every <paramref name="retentionCheckInterval"/> (Kafka default 5 minutes) and a flush
    /// check every <paramref name="flushCheckInterval"/> (default 1 s) on the injected clock.
    /// </summary>
    public void StartBackgroundTasks(TimeSpan retentionCheckInterval, TimeSpan? flushCheckInterval = null)
    {
        lock (_createLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _background.Add(RunPeriodically(retentionCheckInterval, () => RunRetentionOnce()));
            _background.Add(RunPeriodically(flushCheckInterval ?? TimeSpan.FromSeconds(1), () => FlushDueLogs()));
        }
    }

    /// <summary>The log cleaner of compacted topics, once <see cref="StartCleaner"/> was called.</summary>
    public LogCleaner? Cleaner => _cleaner;

    /// <summary>Starts the log cleaner threads (log.cleaner.threads, default 1) over every log of a compacted topic.</summary>
    public LogCleaner StartCleaner(CleanerConfig config)
    {
        lock (_createLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _cleaner ??= new LogCleaner(() => _logs.Values, config, _time, _loggerFactory);
            _cleaner.Start();
            return _cleaner;
        }
    }

    private async Task RunPeriodically(TimeSpan interval, Action action)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Background log task failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops background tasks and closes every log cleanly (flush, producer snapshot, clean-shutdown marker).</summary>
    public void Close()
    {
        Task[] background;
        lock (_createLock)
        {
            if (_closed) return;
            _closed = true;
            _stopping.Cancel();
            background = _background.ToArray();
        }
        Task.WaitAll(background);
        _cleaner?.Dispose();
        Parallel.ForEach(_logs.Values, log =>
        {
            try
            {
                log.Close();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "Closing {Topic}-{Partition} failed", log.Topic, log.Partition);
            }
        });
        _logs.Clear();
        _stopping.Dispose();
    }

    public void Dispose() => Close();
}
