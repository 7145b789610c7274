using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups;
using Samsa.Protocol;

namespace Samsa.Broker.Transactions;

/// <summary>The transaction coordinator settings (Kafka's transaction.* broker configs).</summary>
public sealed record TransactionCoordinatorConfig(
    int MaxTimeoutMs = 900_000,
    long AbortTimedOutCheckIntervalMs = 10_000,
    long TransactionalIdExpirationMs = 604_800_000,
    long RemoveExpiredCheckIntervalMs = 3_600_000,
    int MarkerRetryBackoffMs = 100);

/// <summary>Result of InitProducerId.</summary>
public readonly record struct InitProducerIdResult(ErrorCode Error, long ProducerId = -1, short ProducerEpoch = -1);

/// <summary>
/// The transaction coordinator state machine of one __transaction_state partition (Kafka's TransactionCoordinator +
/// TransactionStateManager for the transactional ids hashing to it). Each transactional id moves
/// Empty → Ongoing (AddPartitionsToTxn / AddOffsetsToTxn) → PrepareCommit|PrepareAbort (EndTxn, a timeout, or a new
/// producer fencing an open transaction) → markers written to every partition → CompleteCommit|CompleteAbort → Ongoing ...
/// Every transition is appended to the partition and published in memory only once durable; while one is in flight, or
/// while markers are being written, requests for the id answer CONCURRENT_TRANSACTIONS (the client retries). Load
/// replays the partition and finishes every transaction found prepared (its decision is durable, its markers may not be).
/// Thread-safety: state under <see cref="_lock"/>, held for short non-blocking sections; appends and marker writes are
/// awaited outside it.
/// </summary>
public sealed class TransactionCoordinatorShard : IDisposable
{
    private readonly ICoordinatorLog _log;
    private readonly ITxnMarkerWriter _markers;
    private readonly Func<CancellationToken, ValueTask<long>> _nextProducerId;
    private readonly TransactionCoordinatorConfig _config;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, TransactionMetadata> _txns = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _closed = new();
    private ITimer? _abortTimer;
    private ITimer? _expireTimer;
    private Status _status = Status.Loading;

    public TransactionCoordinatorShard(int partition, int coordinatorEpoch, ICoordinatorLog log, ITxnMarkerWriter markers,
        Func<CancellationToken, ValueTask<long>> nextProducerId, TransactionCoordinatorConfig config, TimeProvider time, ILogger logger)
    {
        PartitionIndex = partition;
        CoordinatorEpoch = coordinatorEpoch;
        _log = log;
        _markers = markers;
        _nextProducerId = nextProducerId;
        _config = config;
        _time = time;
        _logger = logger;
    }

    private enum Status
    {
        Loading,
        Active,
        Closed,
    }

    public int PartitionIndex { get; }

    /// <summary>Written into every marker (the leader epoch of the partition when this shard loaded).</summary>
    public int CoordinatorEpoch { get; }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private ErrorCode StatusError => _status switch
    {
        Status.Active => ErrorCode.None,
        Status.Loading => ErrorCode.CoordinatorLoadInProgress,
        _ => ErrorCode.NotCoordinator,
    };

    /// <summary>Replays the partition, then completes the transactions it finds prepared and starts the timers.</summary>
    public void Load()
    {
        var loaded = new Dictionary<string, TxnSnapshot>(StringComparer.Ordinal);
        int count = 0;
        foreach (var record in _log.ReadAll())
        {
            count++;
            if (record.Marker is not null || TransactionLogSerde.DecodeKey(record.Key) is not { } id) continue;
            if (record.Value is null) loaded.Remove(id);
            else loaded[id] = TransactionLogSerde.DecodeValue(record.Value);
        }
        List<TransactionMetadata> prepared;
        lock (_lock)
        {
            if (_status != Status.Loading) return;
            foreach (var (id, snapshot) in loaded) _txns[id] = new TransactionMetadata(id, snapshot);
            prepared = _txns.Values.Where(m => m.Current.IsPrepare).ToList();
            _status = Status.Active;
            var abortInterval = TimeSpan.FromMilliseconds(_config.AbortTimedOutCheckIntervalMs);
            _abortTimer = _time.CreateTimer(_ => AbortTimedOutTransactions(), null, abortInterval, abortInterval);
            var expireInterval = TimeSpan.FromMilliseconds(_config.RemoveExpiredCheckIntervalMs);
            _expireTimer = _time.CreateTimer(_ => ExpireTransactionalIds(), null, expireInterval, expireInterval);
        }
        foreach (var meta in prepared) _ = CompleteAsync(meta, meta.Current);
        _logger.LogInformation("Loaded transaction coordinator for __transaction_state-{Partition}: {Ids} transactional ids from {Records} records, {Prepared} to complete",
            PartitionIndex, loaded.Count, count, prepared.Count);
    }

    /// <summary>
    /// InitProducerId for a transactional id: a new id gets a fresh producer id with epoch 0; a known one gets its epoch
    /// bumped (fencing older producers), or a fresh producer id when the epoch is exhausted. An open transaction is first
    /// aborted with a bumped epoch and the caller gets CONCURRENT_TRANSACTIONS to retry. With KIP-360 (v3+) the caller's
    /// current producer id and epoch must be the coordinator's, else PRODUCER_FENCED.
    /// </summary>
    public async Task<InitProducerIdResult> InitProducerIdAsync(string transactionalId, int timeoutMs, long expectedProducerId,
        short expectedEpoch, CancellationToken ct)
    {
        if (timeoutMs <= 0 || timeoutMs > _config.MaxTimeoutMs) return new(ErrorCode.InvalidTransactionTimeout);
        long freshProducerId = -1;
        while (true)
        {
            TransactionMetadata meta;
            TxnSnapshot next;
            Task durable;
            bool fence = false;
            bool needProducerId = false;
            lock (_lock)
            {
                if (StatusError != ErrorCode.None) return new(StatusError);
                if (!_txns.TryGetValue(transactionalId, out meta!))
                {
                    if (freshProducerId < 0) needProducerId = true;
                    else
                    {
                        meta = new TransactionMetadata(transactionalId, new TxnSnapshot(freshProducerId, -1, -1, timeoutMs,
                            TransactionState.Empty, TxnSnapshot.NoPartitions, -1, NowMs)) { IsNew = true };
                        _txns[transactionalId] = meta;
                        freshProducerId = -1;
                    }
                }
                if (!needProducerId)
                {
                    if (meta.PendingTransition) return new(ErrorCode.ConcurrentTransactions);
                    var cur = meta.Current;
                    if (expectedProducerId >= 0 && !meta.IsNew &&
                        !(expectedProducerId == cur.ProducerId && expectedEpoch == cur.ProducerEpoch) && expectedProducerId != cur.PreviousProducerId)
                        return new(ErrorCode.ProducerFenced);
                    switch (cur.State)
                    {
                        case TransactionState.PrepareCommit or TransactionState.PrepareAbort or TransactionState.PrepareEpochFence:
                            return new(ErrorCode.ConcurrentTransactions);
                        case TransactionState.Ongoing:
                            // Fence the producer of the open transaction: abort it under a bumped epoch (Kafka's
                            // PrepareEpochFence then PrepareAbort); the caller retries once the abort completes.
                            next = cur with { ProducerEpoch = BumpedEpoch(cur.ProducerEpoch), State = TransactionState.PrepareAbort, LastUpdateMs = NowMs };
                            fence = true;
                            break;
                        default:
                            if (cur.ProducerEpoch >= short.MaxValue - 1)
                            {
                                if (freshProducerId < 0)
                                {
                                    needProducerId = true;
                                    next = cur;
                                    break;
                                }
                                next = cur with { PreviousProducerId = cur.ProducerId, ProducerId = freshProducerId, ProducerEpoch = 0 };
                                freshProducerId = -1;
                            }
                            else next = cur with { ProducerEpoch = (short)(cur.ProducerEpoch + 1) };
                            next = next with
                            {
                                TimeoutMs = timeoutMs, State = TransactionState.Empty, Partitions = TxnSnapshot.NoPartitions,
                                StartTimeMs = -1, LastUpdateMs = NowMs,
                            };
                            break;
                    }
                    if (!needProducerId)
                    {
                        meta.PendingTransition = true;
                        durable = Persist(transactionalId, next);
                    }
                    else durable = Task.CompletedTask;
                }
                else
                {
                    next = null!;
                    durable = Task.CompletedTask;
                }
            }
            if (needProducerId)
            {
                freshProducerId = await _nextProducerId(ct).ConfigureAwait(false);
                continue;
            }
            var error = await PublishAsync(meta, next, durable).ConfigureAwait(false);
            if (error != ErrorCode.None) return new(error);
            if (fence)
            {
                _logger.LogInformation("Transactional id {TransactionalId}: a new producer fences epoch {Epoch}; aborting its open transaction",
                    transactionalId, next.ProducerEpoch - 1);
                _ = CompleteAsync(meta, next);
                return new(ErrorCode.ConcurrentTransactions);
            }
            return new(ErrorCode.None, next.ProducerId, next.ProducerEpoch);
        }
    }

    /// <summary>
    /// AddPartitionsToTxn / AddOffsetsToTxn: adds partitions to the producer's transaction, starting it if none is open.
    /// With <paramref name="verifyOnly"/> (KIP-890) nothing changes: NONE if every partition is in the open transaction.
    /// </summary>
    public async Task<ErrorCode> AddPartitionsAsync(string transactionalId, long producerId, short epoch, IReadOnlyCollection<TxnPartition> partitions,
        bool verifyOnly = false)
    {
        TransactionMetadata? meta;
        TxnSnapshot next;
        Task durable;
        lock (_lock)
        {
            var error = Validate(transactionalId, producerId, epoch, out meta);
            if (error != ErrorCode.None) return error;
            var cur = meta!.Current;
            if (verifyOnly)
                return cur.State == TransactionState.Ongoing && partitions.All(cur.Partitions.Contains) ? ErrorCode.None : ErrorCode.InvalidTxnState;
            if (meta.PendingTransition || cur.IsPrepare || cur.State == TransactionState.PrepareEpochFence) return ErrorCode.ConcurrentTransactions;
            if (cur.State == TransactionState.Ongoing && partitions.All(cur.Partitions.Contains)) return ErrorCode.None;
            long now = NowMs;
            var all = new SortedSet<TxnPartition>(cur.State == TransactionState.Ongoing ? cur.Partitions : []);
            all.UnionWith(partitions);
            next = cur with
            {
                State = TransactionState.Ongoing, Partitions = all, LastUpdateMs = now,
                StartTimeMs = cur.State == TransactionState.Ongoing ? cur.StartTimeMs : now,
            };
            meta.PendingTransition = true;
            durable = Persist(transactionalId, next);
        }
        return await PublishAsync(meta, next, durable).ConfigureAwait(false);
    }

    /// <summary>
    /// EndTxn: the decision is made durable (PrepareCommit / PrepareAbort) before the answer; markers and the Complete state
    /// follow in the background. A retried EndTxn of a completed transaction with the same outcome answers NONE.
    /// </summary>
    public async Task<ErrorCode> EndTransactionAsync(string transactionalId, long producerId, short epoch, bool commit)
    {
        TransactionMetadata? meta;
        TxnSnapshot next;
        Task durable;
        lock (_lock)
        {
            var error = Validate(transactionalId, producerId, epoch, out meta);
            if (error != ErrorCode.None) return error;
            if (meta!.PendingTransition) return ErrorCode.ConcurrentTransactions;
            var cur = meta.Current;
            switch (cur.State)
            {
                case TransactionState.Ongoing:
                    break;
                case TransactionState.CompleteCommit:
                    return commit ? ErrorCode.None : ErrorCode.InvalidTxnState;
                case TransactionState.CompleteAbort:
                    return commit ? ErrorCode.InvalidTxnState : ErrorCode.None;
                case TransactionState.PrepareCommit:
                    return commit ? ErrorCode.ConcurrentTransactions : ErrorCode.InvalidTxnState;
                case TransactionState.PrepareAbort:
                    return commit ? ErrorCode.InvalidTxnState : ErrorCode.ConcurrentTransactions;
                case TransactionState.PrepareEpochFence:
                    return ErrorCode.ConcurrentTransactions;
                default:
                    return ErrorCode.InvalidTxnState;
            }
            next = cur with { State = commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort, LastUpdateMs = NowMs };
            meta.PendingTransition = true;
            durable = Persist(transactionalId, next);
        }
        var published = await PublishAsync(meta, next, durable).ConfigureAwait(false);
        if (published == ErrorCode.None) _ = CompleteAsync(meta, next);
        return published;
    }

    /// <summary>
    /// KIP-890 part 1, for a transactional produce on this node: NONE when the partition is in the producer's open
    /// transaction; otherwise INVALID_TXN_STATE, or the fencing error of a stale producer.
    /// </summary>
    public ErrorCode VerifyPartition(string transactionalId, long producerId, short epoch, TxnPartition partition)
    {
        lock (_lock)
        {
            var error = Validate(transactionalId, producerId, epoch, out var meta);
            if (error != ErrorCode.None) return error;
            var cur = meta!.Current;
            return cur.State == TransactionState.Ongoing && cur.Partitions.Contains(partition) ? ErrorCode.None : ErrorCode.InvalidTxnState;
        }
    }

    /// <summary>The state of a transactional id (DescribeTransactions), or TRANSACTIONAL_ID_NOT_FOUND.</summary>
    public (ErrorCode Error, TxnSnapshot? State) Describe(string transactionalId)
    {
        lock (_lock)
        {
            if (StatusError != ErrorCode.None) return (StatusError, null);
            return _txns.TryGetValue(transactionalId, out var meta) && !meta.IsNew
                ? (ErrorCode.None, meta.Current)
                : (ErrorCode.TransactionalIdNotFound, null);
        }
    }

    /// <summary>Transactional ids with their state (ListTransactions); empty filters match everything.</summary>
    public (ErrorCode Error, List<(string TransactionalId, TxnSnapshot State)> States) List(IReadOnlyCollection<TransactionState> states,
        IReadOnlyCollection<long> producerIds, long minDurationMs)
    {
        lock (_lock)
        {
            if (StatusError != ErrorCode.None) return (StatusError, []);
            long now = NowMs;
            return (ErrorCode.None, _txns.Values
                .Where(m => !m.IsNew)
                .Where(m => states.Count == 0 || states.Contains(m.Current.State))
                .Where(m => producerIds.Count == 0 || producerIds.Contains(m.Current.ProducerId))
                .Where(m => minDurationMs < 0 || (m.Current.State == TransactionState.Ongoing && now - m.Current.StartTimeMs >= minDurationMs))
                .Select(m => (m.TransactionalId, m.Current))
                .ToList());
        }
    }

    /// <summary>
    /// transaction.timeout.ms expiry: each open transaction older than its timeout is aborted under a bumped epoch, so its
    /// producer (a zombie, or just slow) is fenced on its next request. Runs every
    /// transaction.abort.timed.out.transaction.cleanup.interval.ms; public for tests.
    /// </summary>
    public int AbortTimedOutTransactions()
    {
        var aborting = new List<(TransactionMetadata Meta, TxnSnapshot Next, Task Durable)>();
        lock (_lock)
        {
            if (_status != Status.Active) return 0;
            long now = NowMs;
            foreach (var meta in _txns.Values)
            {
                var cur = meta.Current;
                if (meta.PendingTransition || cur.State != TransactionState.Ongoing || now - cur.StartTimeMs <= cur.TimeoutMs) continue;
                var next = cur with { ProducerEpoch = BumpedEpoch(cur.ProducerEpoch), State = TransactionState.PrepareAbort, LastUpdateMs = now };
                meta.PendingTransition = true;
                aborting.Add((meta, next, Persist(meta.TransactionalId, next)));
                _logger.LogInformation("Aborting transaction of {TransactionalId} (producer {ProducerId}): open for {Ms} ms, timeout {Timeout} ms",
                    meta.TransactionalId, cur.ProducerId, now - cur.StartTimeMs, cur.TimeoutMs);
            }
        }
        foreach (var (meta, next, durable) in aborting)
        {
            _ = Task.Run(async () =>
            {
                if (await PublishAsync(meta, next, durable).ConfigureAwait(false) == ErrorCode.None) await CompleteAsync(meta, next).ConfigureAwait(false);
            });
        }
        return aborting.Count;
    }

    /// <summary>transactional.id.expiration.ms: ids idle that long with no open transaction are removed (tombstone).</summary>
    public int ExpireTransactionalIds()
    {
        var expired = new List<(TransactionMetadata Meta, Task Durable)>();
        lock (_lock)
        {
            if (_status != Status.Active) return 0;
            long now = NowMs;
            foreach (var meta in _txns.Values)
            {
                var cur = meta.Current;
                if (meta.PendingTransition || !cur.IsComplete || now - cur.LastUpdateMs < _config.TransactionalIdExpirationMs) continue;
                meta.PendingTransition = true;
                expired.Add((meta, Persist(meta.TransactionalId, null)));
            }
        }
        foreach (var (meta, durable) in expired)
        {
            _ = durable.ContinueWith(t =>
            {
                lock (_lock)
                {
                    meta.PendingTransition = false;
                    if (t.IsCompletedSuccessfully && _txns.TryGetValue(meta.TransactionalId, out var m) && ReferenceEquals(m, meta))
                        _txns.Remove(meta.TransactionalId);
                }
            }, TaskScheduler.Default);
        }
        if (expired.Count > 0)
            _logger.LogInformation("Expired {Count} transactional ids in __transaction_state-{Partition}", expired.Count, PartitionIndex);
        return expired.Count;
    }

    private static short BumpedEpoch(short epoch) => epoch < short.MaxValue - 1 ? (short)(epoch + 1) : epoch;

    /// <summary>Checks the coordinator state and that the caller is the transactional id's current producer.</summary>
    private ErrorCode Validate(string transactionalId, long producerId, short epoch, out TransactionMetadata? meta)
    {
        meta = null;
        if (StatusError != ErrorCode.None) return StatusError;
        if (!_txns.TryGetValue(transactionalId, out meta) || meta.IsNew) return ErrorCode.InvalidProducerIdMapping;
        var cur = meta.Current;
        if (cur.ProducerId != producerId) return ErrorCode.InvalidProducerIdMapping;
        if (cur.ProducerEpoch != epoch) return ErrorCode.ProducerFenced;
        return ErrorCode.None;
    }

    /// <summary>Appends a transition (caller holds the lock); a failure surfaces through the task.</summary>
    private Task Persist(string transactionalId, TxnSnapshot? snapshot)
    {
        try
        {
            return _log.Append([TransactionLogSerde.Record(transactionalId, snapshot)], NowMs);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            return Task.FromException(e);
        }
    }

    /// <summary>Waits for a transition to be durable, then publishes it; on failure the previous state stays.</summary>
    private async Task<ErrorCode> PublishAsync(TransactionMetadata meta, TxnSnapshot next, Task durable)
    {
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogWarning(e, "Persisting the state of transactional id {TransactionalId} failed", meta.TransactionalId);
            lock (_lock)
            {
                meta.PendingTransition = false;
                if (meta.IsNew) _txns.Remove(meta.TransactionalId);
                return _status == Status.Active ? ErrorCode.CoordinatorNotAvailable : ErrorCode.NotCoordinator;
            }
        }
        lock (_lock)
        {
            meta.PendingTransition = false;
            meta.IsNew = false;
            meta.Current = next;
            return _status == Status.Active ? ErrorCode.None : ErrorCode.NotCoordinator;
        }
    }

    /// <summary>
    /// Writes the markers of a prepared transaction to all its partitions (retrying those whose leader cannot take them
    /// yet, with backoff), then persists CompleteCommit / CompleteAbort. Stops when the shard closes: the next coordinator
    /// finds the transaction prepared and finishes it.
    /// </summary>
    private async Task CompleteAsync(TransactionMetadata meta, TxnSnapshot prepared)
    {
        var token = _closed.Token;
        bool commit = prepared.State == TransactionState.PrepareCommit;
        var remaining = new SortedSet<TxnPartition>(prepared.Partitions);
        int backoff = _config.MarkerRetryBackoffMs;
        try
        {
            while (remaining.Count > 0)
            {
                var results = await _markers.WriteAsync(
                    new TxnMarker(prepared.ProducerId, prepared.ProducerEpoch, commit, CoordinatorEpoch, [.. remaining]), token).ConfigureAwait(false);
                foreach (var (tp, error) in results)
                    if (error is ErrorCode.None or ErrorCode.UnknownTopicOrPartition or ErrorCode.InvalidProducerEpoch) remaining.Remove(tp);
                if (remaining.Count == 0) break;
                _logger.LogInformation("Transactional id {TransactionalId}: {Count} partitions could not take their {Type} marker yet ({Errors}); retrying",
                    meta.TransactionalId, remaining.Count, commit ? "COMMIT" : "ABORT",
                    string.Join(", ", results.Where(r => remaining.Contains(r.Key)).Select(r => $"{r.Key.Topic}-{r.Key.Partition}: {r.Value}")));
                await Task.Delay(TimeSpan.FromMilliseconds(backoff), _time, token).ConfigureAwait(false);
                backoff = Math.Min(backoff * 2, 5_000);
            }
            while (true)
            {
                TxnSnapshot completed;
                Task durable;
                lock (_lock)
                {
                    if (_status != Status.Active) return;
                    completed = prepared with
                    {
                        State = commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort,
                        Partitions = TxnSnapshot.NoPartitions, LastUpdateMs = NowMs,
                    };
                    meta.PendingTransition = true;
                    durable = Persist(meta.TransactionalId, completed);
                }
                var error = await PublishAsync(meta, completed, durable).ConfigureAwait(false);
                if (error == ErrorCode.None || error == ErrorCode.NotCoordinator) return;
                await Task.Delay(TimeSpan.FromMilliseconds(backoff), _time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The shard closed (leadership moved or the node stops): the next coordinator completes the transaction.
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Completing the transaction of {TransactionalId} failed; it completes when the coordinator reloads",
                meta.TransactionalId);
        }
    }

    /// <summary>Stops serving: timers stop, marker writers give up (the next coordinator finishes their work).</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (_status == Status.Closed) return;
            _status = Status.Closed;
            _abortTimer?.Dispose();
            _expireTimer?.Dispose();
            _txns.Clear();
        }
        _closed.Cancel();
    }

    public void Dispose() => Close();
}
