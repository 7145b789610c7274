using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Network.InterBroker;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using Samsa.Protocol.Serialization;
using Samsa.Storage;

namespace Samsa.Broker.Replication;

/// <summary>
/// One replica fetcher loop (Kafka's ReplicaFetcherThread): copies the partitions it is given from one leader over a
/// dedicated connection. Per round: partitions that just became followers (or whose fetch reported a diverging epoch)
/// first truncate — OffsetsForLeaderEpoch for the epoch of their last batch, then cut the log where the histories
/// part (<see cref="Truncation"/>) — then one Fetch (replica id set, topic ids, each partition's current leader epoch,
/// fetch offset = log end, last fetched epoch) that the leader long-polls up to replica.fetch.wait.max.ms.
/// Fetched batches are CRC-checked and appended with the leader's offsets and epochs, and the loop waits for their
/// group-commit fsync before the next Fetch: the offset it then reports is on disk, which is what lets the leader's
/// high watermark mean "durable on every ISR member".
/// Thread-safety: partitions are added and removed by the replica manager while the loop runs; both sides take
/// <see cref="_processLock"/> around changes to a log, so a partition handed over to leadership is never written by
/// the fetcher afterwards.
/// </summary>
internal sealed class ReplicaFetcher : IAsyncDisposable
{
    private const short FetchVersion = 16;
    private const short OffsetForLeaderEpochVersion = 4;
    private const short ListOffsetsVersion = 7;

    private sealed class State(Partition partition, int leaderEpoch)
    {
        public Partition Partition { get; } = partition;
        public int LeaderEpoch { get; } = leaderEpoch;
        public bool NeedsTruncation = true;
        public long DelayedUntilMs;
    }

    private readonly ConcurrentDictionary<Partition, State> _partitions = new();
    private readonly object _processLock = new();
    private readonly BrokerChannel _channel;
    private readonly ReplicationOptions _options;
    private readonly int _nodeId;
    private readonly bool _flushOnAck;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _leaderUnreachableLogged;

    public ReplicaFetcher(int leaderId, int index, BrokerChannel channel, ReplicationOptions options, int nodeId, bool flushOnAck,
        TimeProvider time, ILogger logger)
    {
        LeaderId = leaderId;
        Index = index;
        _channel = channel;
        _options = options;
        _nodeId = nodeId;
        _flushOnAck = flushOnAck;
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public int LeaderId { get; }
    public int Index { get; }
    public int PartitionCount => _partitions.Count;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Starts (or restarts, after a leader epoch change) copying <paramref name="partition"/>; it truncates first.</summary>
    public void Add(Partition partition, int leaderEpoch)
    {
        lock (_processLock) _partitions[partition] = new State(partition, leaderEpoch);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Stops copying; when this returns the fetcher no longer writes to the partition's log.</summary>
    public bool Remove(Partition partition)
    {
        lock (_processLock) return _partitions.TryRemove(partition, out _);
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var changed = Volatile.Read(ref _changed).Task;
                long now = NowMs;
                var ready = _partitions.Values.Where(s => s.DelayedUntilMs <= now).ToList();
                if (ready.Count == 0)
                {
                    long nextDue = _partitions.Values.Select(s => s.DelayedUntilMs).DefaultIfEmpty(long.MaxValue).Min();
                    var wait = nextDue == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Max(1, nextDue - now));
                    await changed.WaitAsync(wait, _time, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                    continue;
                }
                var truncating = ready.Where(s => s.NeedsTruncation).ToList();
                if (truncating.Count > 0) await TruncateAsync(truncating, ct).ConfigureAwait(false);
                var fetching = ready.Where(s => !s.NeedsTruncation && s.DelayedUntilMs <= now).ToList();
                if (fetching.Count > 0) await FetchAsync(fetching, ct).ConfigureAwait(false);
                _leaderUnreachableLogged = false;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IOException or TimeoutException or ProtocolException or ObjectDisposedException)
            {
                // Leader unreachable or gone: every partition waits a backoff; the metadata image moves them if leadership moved.
                if (!_leaderUnreachableLogged)
                    _logger.LogWarning("Replica fetcher {Index} for leader {Leader}: {Reason}; retrying every {Backoff} ms",
                        Index, LeaderId, e.Message, _options.FetchBackoffMs);
                _leaderUnreachableLogged = true;
                DelayAll();
                if (e is ObjectDisposedException && ct.IsCancellationRequested) break;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Replica fetcher {Index} for leader {Leader} failed; retrying after {Backoff} ms", Index, LeaderId, _options.FetchBackoffMs);
                DelayAll();
            }
        }
    }

    private void DelayAll()
    {
        long until = NowMs + _options.FetchBackoffMs;
        foreach (var s in _partitions.Values) s.DelayedUntilMs = until;
    }

    private void Delay(State state, ErrorCode error)
    {
        state.DelayedUntilMs = NowMs + _options.FetchBackoffMs;
        _logger.LogDebug("Fetch of {Topic}-{Partition} from leader {Leader}: {Error}; retrying after {Backoff} ms",
            state.Partition.Topic, state.Partition.Index, LeaderId, error, _options.FetchBackoffMs);
    }

    /// <summary>One OffsetsForLeaderEpoch round for partitions that must find where their log diverges from the leader's.</summary>
    private async Task TruncateAsync(List<State> states, CancellationToken ct)
    {
        var request = new OffsetForLeaderEpochRequest { ReplicaId = _nodeId };
        var asked = new List<(State State, int Epoch)>();
        foreach (var s in states)
        {
            int epoch = s.Partition.Log.LatestLeaderEpoch;
            if (epoch < 0)
            {
                // Nothing stamped with an epoch (an empty log): nothing that could diverge.
                lock (_processLock)
                    if (IsCurrent(s)) s.NeedsTruncation = false;
                continue;
            }
            var topic = request.Topics.FirstOrDefault(t => t.Topic == s.Partition.Topic);
            if (topic is null) request.Topics.Add(topic = new() { Topic = s.Partition.Topic });
            topic.Partitions.Add(new() { Partition = s.Partition.Index, CurrentLeaderEpoch = s.LeaderEpoch, LeaderEpoch = epoch });
            asked.Add((s, epoch));
        }
        if (asked.Count == 0) return;
        var response = await _channel.SendAsync<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(
            request, OffsetForLeaderEpochVersion, TimeSpan.FromMilliseconds(_options.SocketTimeoutMs), ct).ConfigureAwait(false);
        foreach (var (state, epoch) in asked)
        {
            var result = response.Topics.FirstOrDefault(t => t.Topic == state.Partition.Topic)?.Partitions
                .FirstOrDefault(p => p.Partition == state.Partition.Index);
            if (result is null || (ErrorCode)result.ErrorCode != ErrorCode.None)
            {
                Delay(state, result is null ? ErrorCode.UnknownServerError : (ErrorCode)result.ErrorCode);
                continue;
            }
            lock (_processLock)
            {
                if (!IsCurrent(state)) continue;
                var plan = Truncation.Compute(state.Partition.Log, result.LeaderEpoch, result.EndOffset);
                TruncateTo(state, plan.Offset, $"leader epoch {epoch} ends at {result.EndOffset} (epoch {result.LeaderEpoch}) on leader {LeaderId}");
                state.NeedsTruncation = !plan.Completed;
            }
        }
    }

    private void TruncateTo(State state, long offset, string reason)
    {
        var log = state.Partition.Log;
        if (offset >= log.LogEndOffset) return;
        _logger.LogInformation("Truncating {Topic}-{Partition} from {End} to {Offset}: {Reason}",
            log.Topic, log.Partition, log.LogEndOffset, offset, reason);
        log.Truncate(offset);
    }

    private bool IsCurrent(State state) => _partitions.TryGetValue(state.Partition, out var current) && ReferenceEquals(current, state);

    private async Task FetchAsync(List<State> states, CancellationToken ct)
    {
        var request = new FetchRequest
        {
            ReplicaState = new FetchRequest.ReplicaStateData { ReplicaId = _nodeId, ReplicaEpoch = -1 },
            MaxWaitMs = _options.FetchWaitMaxMs,
            MinBytes = _options.FetchMinBytes,
            MaxBytes = _options.FetchResponseMaxBytes,
            SessionId = 0,
            SessionEpoch = -1, // full fetches, no session: the request names every partition (a deviation; Kafka's followers use sessions)
        };
        var byKey = new Dictionary<(Guid, int), (State State, long FetchOffset)>();
        foreach (var s in states)
        {
            var log = s.Partition.Log;
            var topic = request.Topics.FirstOrDefault(t => t.TopicId == s.Partition.TopicId);
            if (topic is null) request.Topics.Add(topic = new() { TopicId = s.Partition.TopicId, Topic = s.Partition.Topic });
            long fetchOffset = log.LogEndOffset;
            topic.Partitions.Add(new()
            {
                Partition = s.Partition.Index,
                CurrentLeaderEpoch = s.LeaderEpoch,
                FetchOffset = fetchOffset,
                LastFetchedEpoch = log.LatestLeaderEpoch,
                LogStartOffset = log.LogStartOffset,
                PartitionMaxBytes = _options.FetchMaxBytes,
            });
            byKey[(s.Partition.TopicId, s.Partition.Index)] = (s, fetchOffset);
        }

        var timeout = TimeSpan.FromMilliseconds((long)_options.FetchWaitMaxMs + _options.SocketTimeoutMs);
        using var response = await _channel.SendPooledAsync<FetchRequest, FetchResponse>(request, FetchVersion, timeout, ct).ConfigureAwait(false);
        if ((ErrorCode)response.Body.ErrorCode != ErrorCode.None)
        {
            foreach (var s in states) Delay(s, (ErrorCode)response.Body.ErrorCode);
            return;
        }
        var flushes = new List<(Partition Partition, long Offset, long LeaderHighWatermark)>();
        var outOfRange = new List<(State State, long LeaderLogStart)>();
        lock (_processLock)
        {
            foreach (var topic in response.Body.Responses)
            {
                foreach (var data in topic.Partitions)
                {
                    if (!byKey.TryGetValue((topic.TopicId, data.PartitionIndex), out var entry)) continue;
                    var (state, fetchOffset) = entry;
                    if (!IsCurrent(state)) continue; // removed or re-added while the fetch was in flight
                    var log = state.Partition.Log;
                    if (log.LogEndOffset != fetchOffset) continue; // truncated meanwhile
                    var error = (ErrorCode)data.ErrorCode;
                    if (error == ErrorCode.OffsetOutOfRange)
                    {
                        outOfRange.Add((state, data.LogStartOffset));
                        continue;
                    }
                    if (error != ErrorCode.None)
                    {
                        Delay(state, error);
                        continue;
                    }
                    if (data.DivergingEpoch is { EndOffset: >= 0 } diverging)
                    {
                        var plan = Truncation.Compute(log, diverging.Epoch, diverging.EndOffset);
                        TruncateTo(state, plan.Offset, $"diverging epoch {diverging.Epoch} ends at {diverging.EndOffset} on leader {LeaderId}");
                        state.NeedsTruncation = !plan.Completed;
                        continue;
                    }
                    if (data.Records is { Length: > 0 } records && !Append(state, records))
                        continue;
                    flushes.Add((state.Partition, log.LogEndOffset, data.HighWatermark));
                }
            }
        }

        // The next fetch reports the log end as this replica's position: it must be durable first.
        if (_flushOnAck)
        {
            try
            {
                await Task.WhenAll(flushes.Select(f => f.Partition.Log.WaitForFlushAsync(f.Offset, ct).AsTask())).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                _logger.LogError(e, "Replica fetcher {Index}: fsync of fetched data failed", Index);
                throw;
            }
        }
        foreach (var (partition, _, hw) in flushes) partition.UpdateFollowerHighWatermark(hw);
        foreach (var (state, leaderLogStart) in outOfRange) await HandleOutOfRangeAsync(state, leaderLogStart, ct).ConfigureAwait(false);
    }

    /// <summary>Appends whole, CRC-valid batches at or after the log end; a partial last batch (size limit) is left for the next fetch.</summary>
    private bool Append(State state, ReadOnlyMemory<byte> records)
    {
        var log = state.Partition.Log;
        var reader = new RecordBatchReader(records, verifyCrc: true);
        int valid = 0;
        while (reader.TryReadNext(out var batch))
        {
            if (batch.LastOffset < log.LogEndOffset)
            {
                // A batch below our log end would mean the leader answered from a different offset: do not guess.
                Delay(state, ErrorCode.CorruptMessage);
                return false;
            }
            valid += batch.SizeInBytes;
        }
        if (reader.Error is not (RecordBatchError.None or RecordBatchError.Truncated) && valid == 0)
        {
            _logger.LogWarning("Fetch of {Topic}-{Partition} from leader {Leader} returned a corrupt batch ({Error}); retrying",
                log.Topic, log.Partition, LeaderId, reader.Error);
            Delay(state, ErrorCode.CorruptMessage);
            return false;
        }
        if (valid == 0) return true;
        var appended = log.AppendAsFollower(records[..valid]);
        if (!appended.IsSuccess)
        {
            _logger.LogWarning("Appending fetched data to {Topic}-{Partition} failed: {Error}", log.Topic, log.Partition, appended.Error);
            Delay(state, ErrorCode.KafkaStorageError);
            return false;
        }
        return true;
    }

    /// <summary>
    /// The leader cannot serve our fetch offset. Behind its log start: restart empty at its log start. Ahead of its
    /// log end (possible only after an unclean election): cut back to its log end (Kafka asks ListOffsets too).
    /// </summary>
    private async Task HandleOutOfRangeAsync(State state, long leaderLogStart, CancellationToken ct)
    {
        var log = state.Partition.Log;
        if (leaderLogStart >= 0 && log.LogEndOffset < leaderLogStart)
        {
            lock (_processLock)
                if (IsCurrent(state)) log.TruncateFullyAndStartAt(leaderLogStart);
            return;
        }
        var request = new ListOffsetsRequest { ReplicaId = _nodeId };
        request.Topics.Add(new()
        {
            Name = state.Partition.Topic,
            Partitions = [new() { PartitionIndex = state.Partition.Index, CurrentLeaderEpoch = state.LeaderEpoch, Timestamp = -1 }],
        });
        var response = await _channel.SendAsync<ListOffsetsRequest, ListOffsetsResponse>(
            request, ListOffsetsVersion, TimeSpan.FromMilliseconds(_options.SocketTimeoutMs), ct).ConfigureAwait(false);
        var p = response.Topics.FirstOrDefault()?.Partitions.FirstOrDefault();
        if (p is null || p.ErrorCode != 0 || p.Offset < 0)
        {
            Delay(state, p is null ? ErrorCode.UnknownServerError : (ErrorCode)p.ErrorCode);
            return;
        }
        lock (_processLock)
        {
            if (!IsCurrent(state)) return;
            if (p.Offset < log.LogStartOffset) log.TruncateFullyAndStartAt(p.Offset);
            else TruncateTo(state, p.Offset, $"leader {LeaderId} ends at {p.Offset}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _channel.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
