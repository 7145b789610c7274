using System.Net;
using System.Threading.Channels;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace Samsa.Metadata.Quorum;

/// <summary>A voter of the metadata quorum: <c>node.id</c> and the CONTROLLER endpoint it serves Raft on.</summary>
public sealed record RaftVoter(int NodeId, IPEndPoint EndPoint);

public sealed record RaftMetadataLogOptions
{
    public required int NodeId { get; init; }
    public required IReadOnlyList<RaftVoter> Voters { get; init; }
    public required string Directory { get; init; }

    /// <summary>Where this node binds Raft (the CONTROLLER listener); defaults to its voter endpoint.</summary>
    public IPEndPoint? BindEndPoint { get; init; }

    /// <summary>Raft election timeout range. Below ~400 ms a restarting node was seen stuck installing a snapshot.</summary>
    public int LowerElectionTimeoutMs { get; init; } = 400;
    public int UpperElectionTimeoutMs { get; init; } = 800;

    /// <summary>Bytes of batches between Raft snapshots of the image (metadata.log.max.record.bytes.between.snapshots).</summary>
    public long SnapshotBytes { get; init; } = 20 * 1024 * 1024;

    /// <summary>Batches kept in memory for broker-only nodes following the log; older positions get a snapshot.</summary>
    public int RecentBatches { get; init; } = 4096;
}

/// <summary>
/// Forwards a batch to the active controller (a network call set up by the broker): appends it there if the
/// controller's log is at <c>expectedOffset</c> (-1: unconditionally) and returns the offset after it; throws
/// <see cref="MetadataConflictException"/> or <see cref="NotControllerException"/>.
/// </summary>
public delegate Task<long> MetadataForwarder(int controllerId, long expectedOffset, IReadOnlyList<MetadataRecord> batch, CancellationToken ct);

/// <summary>
/// The metadata log of a controller node (<c>process.roles</c> contains controller): a DotNext Raft member over TCP
/// with a DotNext write-ahead log and <see cref="MetadataStateMachine"/>. The Raft leader is the active controller:
/// it appends batches (<see cref="AppendAsLeaderAsync"/>); on any other voter an append is forwarded to the leader
/// through <see cref="Forwarder"/>, retried across leader changes until <c>timeout</c>, and returns once this node
/// has applied the batch too (read-your-writes for the caller).
/// Offsets count applied batches (MetadataImage.Offset), so they are equal on every node for the same prefix.
/// </summary>
public sealed class RaftMetadataLog : IMetadataLog
{
    private static readonly TimeSpan ForwardTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(5);

    private RaftCluster _cluster = null!; // set once by StartAsync, before the instance is returned
    private WriteAheadLog _wal = null!;
    private readonly MetadataStateMachine _stateMachine;
    private readonly RaftMetadataLogOptions _options;
    private readonly Dictionary<EndPoint, int> _nodeIdByEndPoint;
    private readonly SemaphoreSlim _leaderAppendLock = new(1, 1);
    private readonly ILogger _logger;
    private readonly object _recentLock = new();
    private readonly Queue<(long Offset, MetadataRecord[] Batch)> _recent = new();
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<(MetadataImage Image, IReadOnlyList<MetadataRecord> Batch)> _toPublish =
        Channel.CreateUnbounded<(MetadataImage, IReadOnlyList<MetadataRecord>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _publisher;
    private volatile MetadataImage _published = MetadataImage.Empty;
    private int _disposed;

    private RaftMetadataLog(RaftMetadataLogOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<RaftMetadataLog>();
        _nodeIdByEndPoint = options.Voters.ToDictionary(v => (EndPoint)v.EndPoint, v => v.NodeId);
        _stateMachine = new MetadataStateMachine(new DirectoryInfo(Path.Combine(options.Directory, "snapshots")), options.SnapshotBytes, OnApplied);
        _publisher = Task.Run(PublishLoopAsync);
    }

    /// <summary>
    /// The image as published to <see cref="Applied"/> subscribers (it may trail the Raft state machine by the batches
    /// still being handed to them). Read-your-writes: <see cref="WaitForOffsetAsync"/> waits for this image.
    /// </summary>
    public MetadataImage Image => _published;

    public event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied;

    /// <summary>Raised (on a DotNext thread) when the Raft leader changes; the argument is the new leader's node id.</summary>
    public event Action<int?>? ControllerChanged;

    public MetadataForwarder? Forwarder { get; set; }

    public int NodeId => _options.NodeId;

    public int? ControllerId => _cluster.Leader is { } leader ? NodeIdOf(leader) : null;

    /// <summary>True while this node is the Raft leader, i.e. the active controller.</summary>
    public bool IsActiveController => _cluster.Leader is { IsRemote: false } && !_cluster.LeadershipToken.IsCancellationRequested;

    /// <summary>Cancelled when this node stops being the leader (only meaningful while <see cref="IsActiveController"/>).</summary>
    public CancellationToken LeadershipToken => _cluster.LeadershipToken;

    public static async Task<RaftMetadataLog> StartAsync(RaftMetadataLogOptions options, ILoggerFactory loggerFactory, CancellationToken ct = default)
    {
        var self = options.Voters.FirstOrDefault(v => v.NodeId == options.NodeId)
            ?? throw new ArgumentException($"node.id {options.NodeId} is not in controller.quorum.voters");
        Directory.CreateDirectory(options.Directory);
        var log = new RaftMetadataLog(options, loggerFactory);
        var stateMachine = log._stateMachine;
        await stateMachine.RestoreAsync(ct).ConfigureAwait(false); // before the WAL: it replays only what follows the snapshot
        await log.WaitForOffsetAsync(stateMachine.Image.Offset, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);

        var wal = new WriteAheadLog(new WriteAheadLog.Options
        {
            Location = Path.Combine(options.Directory, "wal"),
            // DotNext 6 always flushes appended and committed entries before returning: a committed batch survives a crash.
        }, stateMachine);

        var storage = new VoterConfigurationStorage();
        var builder = storage.CreateInitialConfigurationBuilder();
        foreach (var voter in options.Voters) builder.Add(voter.EndPoint);
        builder.Build();
        var config = new RaftCluster.TcpConfiguration(options.BindEndPoint ?? self.EndPoint)
        {
            ConfigurationStorage = storage,
            PublicEndPoint = self.EndPoint,
            LowerElectionTimeout = options.LowerElectionTimeoutMs,
            UpperElectionTimeout = options.UpperElectionTimeoutMs,
            RequestTimeout = TimeSpan.FromMilliseconds(options.UpperElectionTimeoutMs * 2),
            ConnectTimeout = TimeSpan.FromMilliseconds(options.LowerElectionTimeoutMs),
            ColdStart = false, // static voters: every node knows the whole configuration from controller.quorum.voters
            LoggerFactory = new ConciseLoggerFactory(loggerFactory, TimeProvider.System), // one short line per event, repeats dropped
        };

        var cluster = new RaftCluster(config) { AuditTrail = wal };
        log._wal = wal;
        log._cluster = cluster;
        cluster.LeaderChanged += log.OnLeaderChanged;
        await cluster.StartAsync(ct).ConfigureAwait(false);
        log._logger.LogInformation("Metadata quorum member {NodeId} on {EndPoint}; voters {Voters}; image at offset {Offset}",
            options.NodeId, self.EndPoint, string.Join(",", options.Voters.Select(v => $"{v.NodeId}@{v.EndPoint}")), log.Image.Offset);
        return log;
    }

    private void OnLeaderChanged(ICluster cluster, IClusterMember? leader)
    {
        int? id = leader is null ? null : NodeIdOf(leader);
        _logger.LogInformation("Metadata quorum leader is now {Leader}", id?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)");
        ControllerChanged?.Invoke(id);
    }

    private int? NodeIdOf(IClusterMember member) =>
        _nodeIdByEndPoint.TryGetValue(member.EndPoint, out var id) ? id : null;

    // Called by DotNext's applier, or inside a Raft InstallSnapshot while DotNext holds its transition lock and the
    // leader waits for the answer (RequestTimeout). Subscribers open and close partition logs, which took over 1.6 s for
    // 120 partitions on a loaded machine: the leader timed the install out although it had succeeded here, and
    // DotNext 6.12 then re-sends that snapshot forever (the follower refuses a snapshot at or below its commit index,
    // the leader counts the refusal as a failure) so this voter could never again help form a majority. So the state
    // machine only hands the batch over; subscribers run in order on the publisher loop.
    internal void OnApplied(MetadataImage image, IReadOnlyList<MetadataRecord> batch) => _toPublish.Writer.TryWrite((image, batch));

    private async Task PublishLoopAsync()
    {
        await foreach (var (image, batch) in _toPublish.Reader.ReadAllAsync().ConfigureAwait(false))
            Publish(image, batch);
    }

    private void Publish(MetadataImage image, IReadOnlyList<MetadataRecord> batch)
    {
        lock (_recentLock)
        {
            _published = image;
            if (_recent.Count > 0 && _recent.Last().Offset + 1 != image.Offset) _recent.Clear(); // a snapshot replaced the image
            if (_recent.Count == 0 || _recent.Last().Offset + 1 == image.Offset)
            {
                _recent.Enqueue((image.Offset, batch as MetadataRecord[] ?? [.. batch]));
                while (_recent.Count > _options.RecentBatches) _recent.Dequeue();
            }
        }
        if (Applied is { } applied) Notify(applied, image, batch);
        // After the subscribers: a writer waiting for its offset finds their effects (a created topic's logs) in place.
        Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private void Notify(Action<MetadataImage, IReadOnlyList<MetadataRecord>> applied, MetadataImage image, IReadOnlyList<MetadataRecord> batch)
    {
        foreach (var subscriber in applied.GetInvocationList().Cast<Action<MetadataImage, IReadOnlyList<MetadataRecord>>>())
        {
            try
            {
                subscriber(image, batch);
            }
            catch (Exception e)
            {
                // The batch is committed: a subscriber's failure (e.g. opening a log) must not stop the state machine.
                _logger.LogError(e, "Applying metadata batch {Offset} in {Subscriber} failed", image.Offset, subscriber.Method.DeclaringType?.Name);
            }
        }
    }

    /// <summary>
    /// Batches after <paramref name="fromOffset"/> (each paired with the offset the image has after it), at most
    /// <paramref name="max"/>; null when the window no longer reaches back that far (send a snapshot instead).
    /// </summary>
    public IReadOnlyList<(long Offset, MetadataRecord[] Batch)>? BatchesSince(long fromOffset, int max)
    {
        lock (_recentLock)
        {
            long current = Image.Offset;
            if (fromOffset >= current) return [];
            if (_recent.Count == 0 || _recent.Peek().Offset > fromOffset + 1) return null;
            return _recent.Where(b => b.Offset > fromOffset).Take(max).ToList();
        }
    }

    /// <summary>Completes once this node's image is at <paramref name="offset"/> or later, or after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForOffsetAsync(long offset, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        while (Image.Offset < offset)
        {
            var advanced = Volatile.Read(ref _advanced).Task;
            if (Image.Offset >= offset) break;
            try
            {
                await advanced.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return Image.Offset >= offset;
            }
        }
        return true;
    }

    public ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default) =>
        AppendAsync(batch, -1, cancellationToken);

    public async ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, long expectedOffset, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return;
        var deadline = DateTime.UtcNow + ForwardTimeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (IsActiveController)
                {
                    await AppendAsLeaderAsync(batch, expectedOffset, cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (ControllerId is { } controller && controller != NodeId && Forwarder is { } forward)
                {
                    long offset = await forward(controller, expectedOffset, batch, cancellationToken).ConfigureAwait(false);
                    await WaitForOffsetAsync(offset, CatchUpTimeout, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            catch (MetadataConflictException e)
            {
                // Catch up to what the controller has, so the caller re-validates against it.
                await WaitForOffsetAsync(e.Actual, CatchUpTimeout, cancellationToken).ConfigureAwait(false);
                throw;
            }
            catch (Exception e) when (e is NotControllerException or IOException or System.Net.Sockets.SocketException or InvalidOperationException
                                          or TimeoutException)
            {
                last = e; // leader changed or unreachable: wait for the next one
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        throw new NotControllerException("No active controller accepted the metadata write in time.", last);
    }

    /// <summary>
    /// Appends as the Raft leader. Serialized, so the offset check and the append see no write in between; the
    /// read barrier first applies whatever earlier leaders committed, so the check compares against the full log.
    /// </summary>
    public async Task<long> AppendAsLeaderAsync(IReadOnlyList<MetadataRecord> batch, long expectedOffset, CancellationToken ct)
    {
        await _leaderAppendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!IsActiveController) throw new NotControllerException($"Node {NodeId} is not the active controller.");
            await _cluster.ApplyReadBarrierAsync(ct).ConfigureAwait(false);
            var image = _stateMachine.Image; // everything committed is applied (the barrier), perhaps not yet published
            if (expectedOffset >= 0 && image.Offset != expectedOffset) throw new MetadataConflictException(expectedOffset, image.Offset);
            _ = image.Apply(batch); // a batch that cannot apply must never reach the log: every node would fail on it
            var payload = MetadataSnapshot.SerializeBatch(batch);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, _cluster.LeadershipToken);
            cts.CancelAfter(ForwardTimeout);
            try
            {
                await _cluster.ReplicateAsync(new ReadOnlyMemory<byte>(payload), null, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new NotControllerException($"Node {NodeId} lost leadership (or timed out) while replicating a metadata batch.");
            }
            await WaitForOffsetAsync(image.Offset + 1, CatchUpTimeout, ct).ConfigureAwait(false);
            return image.Offset + 1;
        }
        finally
        {
            _leaderAppendLock.Release();
        }
    }

    /// <summary>Gives up leadership (controlled shutdown of the active controller) so another voter takes over at once.</summary>
    public async Task ResignAsync(CancellationToken ct)
    {
        if (IsActiveController) await ((ICluster)_cluster).ResignAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _cluster.LeaderChanged -= OnLeaderChanged;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _cluster.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        await _cluster.DisposeAsync().ConfigureAwait(false);
        await _wal.DisposeAsync().ConfigureAwait(false);
        await _stateMachine.DisposeAsync().ConfigureAwait(false);
        _toPublish.Writer.TryComplete();
        await _publisher.ConfigureAwait(false);
        _leaderAppendLock.Dispose();
    }
}
