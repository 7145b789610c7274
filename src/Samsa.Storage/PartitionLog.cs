using Microsoft.Extensions.Logging;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>
/// The log of one partition: a sequence of segments in a directory "&lt;topic&gt;-&lt;partition&gt;".
/// Offsets: <see cref="LogStartOffset"/> ≤ <see cref="HighWatermark"/> ≤ <see cref="LogEndOffset"/>; LogEndOffset is the
/// offset the next appended record gets; <see cref="FlushedOffset"/> (≤ LogEndOffset) is the first offset not yet durable.
/// Thread-safety: appends, rolls, truncation and retention are serialized by one lock held only for the in-memory and
/// file writes (never for fsync); reads run concurrently against an immutable snapshot of the segment list.
/// </summary>
public sealed partial class PartitionLog : IDisposable
{
    private readonly Lock _appendLock = new();
    private readonly string _dir;
    private readonly LogFlushPolicy _flushPolicy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProducerStateManager _producers;
    private readonly LeaderEpochCache _epochs;
    private readonly GroupCommitFlusher _flusher;
    private readonly SegmentDeleter _deleter;
    private volatile LogConfig _config;
    private volatile LogSegment[] _segments;
    private long _logEndOffset;
    private long _logStartOffset;
    private long _highWatermark;
    private long _unflushedMessages;
    private long _lastFlushMs;
    private bool _closed;

    private PartitionLog(string dir, string topic, int partition, LogConfig config, LogFlushPolicy flush, TimeProvider time,
        ILogger logger, LoadedLog loaded)
    {
        _dir = dir;
        Topic = topic;
        Partition = partition;
        _config = config;
        _flushPolicy = flush;
        _time = time;
        _logger = logger;
        _segments = loaded.Segments.ToArray();
        _logStartOffset = loaded.LogStartOffset;
        _logEndOffset = _segments[^1].NextOffset;
        _highWatermark = _logStartOffset;
        _lastFlushMs = NowMs;
        _producers = new ProducerStateManager(dir);
        _epochs = new LeaderEpochCache(dir);
        _epochs.TruncateFromEnd(_logEndOffset);
        _deleter = new SegmentDeleter(time, logger);
        // Recovery may have truncated files; make what we start from durable so FlushedOffset = LogEndOffset is true.
        foreach (var s in _segments) s.Flush();
        _flusher = new GroupCommitFlusher(_logEndOffset, FlushOnce, () => LogEndOffset);
    }

    /// <summary>Opens (creating if needed) and recovers the log in <paramref name="partitionDir"/>.</summary>
    public static PartitionLog Open(string partitionDir, string topic, int partition, LogConfig config, LogFlushPolicy flush,
        TimeProvider time, ILogger logger)
    {
        string name = FileNames.PartitionDirName(topic, partition);
        var loaded = LogRecovery.Load(partitionDir, name, config, time.GetUtcNow().ToUnixTimeMilliseconds(), logger);
        var log = new PartitionLog(partitionDir, topic, partition, config, flush, time, logger, loaded);
        log.LoadProducerState();
        log.LoadCleanerCheckpoint();
        logger.LogInformation(
            "Loaded log {Partition}: {Segments} segments, log start offset {LogStart}, log end offset {LogEnd}, clean shutdown {Clean}",
            name, log._segments.Length, log.LogStartOffset, log.LogEndOffset, loaded.HadCleanShutdown);
        return log;
    }

    public string Topic { get; }
    public int Partition { get; }
    public string Directory => _dir;
    public LogConfig Config => _config;

    public long LogEndOffset => Volatile.Read(ref _logEndOffset);
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);
    /// <summary>Exclusive: the first offset not yet fsynced.</summary>
    public long FlushedOffset => Math.Min(_flusher.FlushedOffset, LogEndOffset);

    /// <summary>Set by the replica manager (on a single node: to <see cref="FlushedOffset"/>). Not persisted.</summary>
    public long HighWatermark
    {
        get => Volatile.Read(ref _highWatermark);
        set => Volatile.Write(ref _highWatermark, Math.Clamp(value, LogStartOffset, LogEndOffset));
    }

    /// <summary>
    /// The last stable offset (Kafka's LSO): read_committed consumers read below it. The high watermark, held back to the
    /// first offset of the earliest transaction that is open, or ended by a marker not yet below the high watermark.
    /// </summary>
    public long LastStableOffset
    {
        get
        {
            long hw = HighWatermark;
            return Math.Min(hw, _producers.FirstUnstableOffset(hw));
        }
    }

    public long SizeInBytes => _segments.Sum(s => s.Size);
    public int SegmentCount => _segments.Length;
    /// <summary>Flush passes so far; each fsyncs the dirty files once however many writers it serves.</summary>
    public long FlushCount => _flusher.FlushCount;
    public int LatestLeaderEpoch => _epochs.LatestEpoch;
    public IReadOnlyList<(int Epoch, long StartOffset)> LeaderEpochs => _epochs.Entries;

    /// <summary>End offset of <paramref name="epoch"/> for OffsetsForLeaderEpoch: (largest epoch ≤ it, its end offset).</summary>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int epoch) => _epochs.EndOffsetFor(epoch, LogEndOffset);

    internal IReadOnlyList<LogSegment> Segments => _segments;
    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Appends client batches as the leader: validates producer state, assigns offsets (patching base offset and leader
    /// epoch in place, and the timestamps for LogAppendTime topics), then writes. The batches' CRCs must already be checked.
    /// </summary>
    public AppendResult AppendAsLeader(Memory<byte> batches, int leaderEpoch, AppendOrigin origin)
    {
        var config = _config;
        var error = Parse(batches.Span, config, out var infos);
        if (error != AppendError.None) return AppendResult.Failed(error, LogStartOffset);
        AppendResult result;
        lock (_appendLock)
        {
            ThrowIfClosed();
            long now = NowMs;
            long next = _logEndOffset;
            var producers = _producers.BeginAppend(origin);
            for (int i = 0; i < infos.Length; i++)
            {
                var info = infos[i] with { BaseOffset = next, LastOffset = next + (infos[i].LastOffset - infos[i].BaseOffset) };
                if (config.LogAppendTime) info = info with { MaxTimestamp = now };
                if (origin == AppendOrigin.Client && producers.FindDuplicate(info) is { } dup)
                    return new AppendResult(AppendError.None, dup.FirstOffset, dup.LastOffset, -1, _logStartOffset, true, 0);
                var producerError = producers.Append(info);
                if (producerError != AppendError.None) return AppendResult.Failed(producerError, _logStartOffset);
                infos[i] = info;
                next = info.LastOffset + 1;
            }
            var span = batches.Span;
            int at = 0;
            int records = 0;
            foreach (var info in infos)
            {
                var batch = span.Slice(at, info.Size);
                RecordBatchPatch.SetBaseOffset(batch, info.BaseOffset);
                RecordBatchPatch.SetPartitionLeaderEpoch(batch, leaderEpoch);
                if (config.LogAppendTime) RecordBatchPatch.SetLogAppendTime(batch, now);
                records += info.RecordCount;
                at += info.Size;
            }
            _epochs.Assign(leaderEpoch, infos[0].BaseOffset);
            error = Write(batches.Span[..at], infos[^1].LastOffset, now, config);
            if (error != AppendError.None) return AppendResult.Failed(error, _logStartOffset);
            IndexAborted(producers.Commit());
            Interlocked.Add(ref _unflushedMessages, records);
            result = new AppendResult(AppendError.None, infos[0].BaseOffset, infos[^1].LastOffset,
                config.LogAppendTime ? now : -1, _logStartOffset, false, records);
        }
        AfterAppend(config);
        return result;
    }

    /// <summary>
    /// Appends batches copied from the leader: offsets and epochs are kept as they are; producer state is updated without
    /// validation. The first batch must start at or after <see cref="LogEndOffset"/>.
    /// </summary>
    public AppendResult AppendAsFollower(ReadOnlyMemory<byte> batches)
    {
        var config = _config;
        var error = Parse(batches.Span, config, out var infos);
        if (error != AppendError.None) return AppendResult.Failed(error, LogStartOffset);
        AppendResult result;
        lock (_appendLock)
        {
            ThrowIfClosed();
            long expected = _logEndOffset;
            var producers = _producers.BeginAppend(AppendOrigin.Replication);
            int records = 0;
            foreach (var info in infos)
            {
                if (info.BaseOffset < expected) return AppendResult.Failed(AppendError.OffsetOutOfRange, _logStartOffset);
                producers.Append(info);
                expected = info.LastOffset + 1;
                records += info.RecordCount;
            }
            foreach (var info in infos) _epochs.Assign(info.PartitionLeaderEpoch, info.BaseOffset);
            error = Write(batches.Span, infos[^1].LastOffset, NowMs, config, infos[0].BaseOffset);
            if (error != AppendError.None) return AppendResult.Failed(error, _logStartOffset);
            IndexAborted(producers.Commit());
            Interlocked.Add(ref _unflushedMessages, records);
            result = new AppendResult(AppendError.None, infos[0].BaseOffset, infos[^1].LastOffset, -1, _logStartOffset, false, records);
        }
        AfterAppend(config);
        return result;
    }

    private static AppendError Parse(ReadOnlySpan<byte> batches, LogConfig config, out BatchInfo[] infos)
    {
        var list = new List<BatchInfo>(1);
        infos = [];
        int at = 0;
        while (at < batches.Length)
        {
            var rest = batches[at..];
            if (rest.Length < RecordBatchLayout.HeaderSize || !BatchInfo.IsStructurallyValid(rest, out _))
                return AppendError.CorruptMessage;
            var info = BatchInfo.From(rest);
            if (info.Size > rest.Length) return AppendError.CorruptMessage;
            info = info.WithControlType(rest[..info.Size]);
            if (info.Size > config.MaxMessageBytes || info.Size > config.SegmentBytes) return AppendError.MessageTooLarge;
            list.Add(info);
            at += info.Size;
        }
        if (list.Count == 0) return AppendError.CorruptMessage;
        infos = list.ToArray();
        return AppendError.None;
    }

    /// <summary>
    /// Records aborted transactions in the ".txnindex" of the active segment, which holds their markers (one append never
    /// spans segments). Caller holds the append lock.
    /// </summary>
    private void IndexAborted(List<AbortedTxn> aborted)
    {
        foreach (var txn in aborted) _segments[^1].TxnIndex.Append(txn);
    }

    /// <summary>Rolls if needed and appends; caller holds the append lock.</summary>
    private AppendError Write(ReadOnlySpan<byte> bytes, long lastOffset, long now, LogConfig config, long? firstOffset = null)
    {
        try
        {
            var active = _segments[^1];
            if (firstOffset is { } first && !active.IsEmpty && first - active.BaseOffset > int.MaxValue) active = Roll(now, first);
            else if (!active.IsEmpty && (active.IsFull(bytes.Length, lastOffset, config.SegmentBytes) || now - active.CreatedMs >= config.SegmentMs))
                active = Roll(now, firstOffset ?? _logEndOffset);
            active.Append(bytes);
            Volatile.Write(ref _logEndOffset, lastOffset + 1);
            return AppendError.None;
        }
        catch (IOException e)
        {
            _logger.LogError(e, "Append to {Topic}-{Partition} failed", Topic, Partition);
            return AppendError.StorageError;
        }
    }

    private void AfterAppend(LogConfig config)
    {
        _flusher.OnAppended();
        if (_flushPolicy.Mode == LogFlushMode.Interval &&
            Interlocked.Read(ref _unflushedMessages) >= Math.Min(_flushPolicy.IntervalMessages, config.FlushMessages))
            _flusher.Request();
        else if (config.FlushMessages != long.MaxValue && Interlocked.Read(ref _unflushedMessages) >= config.FlushMessages)
            _flusher.Request();
    }

    /// <summary>Starts a new active segment at <paramref name="baseOffset"/>; caller holds the append lock.</summary>
    private LogSegment Roll(long now, long baseOffset)
    {
        var old = _segments[^1];
        old.OnBecomeInactive();
        // The producer snapshot written below describes batches in the old segment: those bytes must be on disk
        // first, or after a power loss the snapshot could acknowledge a retried batch as a duplicate of lost data.
        old.Flush();
        var segment = LogSegment.Open(_dir, baseOffset, _config, now);
        _segments = [.. _segments, segment];
        // The snapshot at the new base offset bounds replay after a crash to the active segment.
        _producers.WriteSnapshot(baseOffset);
        _logger.LogInformation("Rolled segment {Segment} of {Topic}-{Partition} (previous {Previous} bytes)",
            baseOffset, Topic, Partition, old.Size);
        return segment;
    }

    /// <summary>Rolls a new segment now (for tests and administrative use).</summary>
    public void Roll()
    {
        lock (_appendLock)
        {
            ThrowIfClosed();
            if (!_segments[^1].IsEmpty) Roll(NowMs, _logEndOffset);
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed) throw new ObjectDisposedException($"{Topic}-{Partition}", "The log is closed.");
    }

    public override string ToString() => $"PartitionLog({Topic}-{Partition}, start={LogStartOffset}, end={LogEndOffset})";
}
