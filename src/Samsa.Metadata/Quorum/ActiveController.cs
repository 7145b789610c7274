using Microsoft.Extensions.Logging;

namespace Samsa.Metadata.Quorum;

public sealed record BrokerLivenessSettings(
    TimeSpan SessionTimeout, bool AutoLeaderRebalance, TimeSpan LeaderImbalanceCheckInterval, Func<string, bool> UncleanElection);

/// <summary>What a broker tells the active controller on every heartbeat (registration is folded in).</summary>
public sealed record BrokerHeartbeat(RegisterBrokerRecord Registration, long MetadataOffset, bool WantShutDown);

/// <summary>
/// The duties of the active controller (the Raft leader) that are driven by time and heartbeats rather than by admin
/// requests: broker sessions (fence a broker whose heartbeats stop for broker.session.timeout.ms, unfence it when it
/// heartbeats again caught up), controlled shutdown, and the periodic preferred-leader election. Heartbeat times live
/// in memory only; a newly elected controller gives every registered broker a full session before fencing it.
/// </summary>
public sealed class ActiveController : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);

    private readonly RaftMetadataLog _log;
    private readonly Controller _controller;
    private readonly BrokerLivenessSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<int, long> _lastHeartbeat = [];
    private readonly Dictionary<int, long> _registeredAt = [];
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private bool _wasLeader;
    private long _nextRebalance;

    public ActiveController(RaftMetadataLog log, Controller controller, BrokerLivenessSettings settings, TimeProvider time, ILogger<ActiveController> logger)
    {
        _log = log;
        _controller = controller;
        _settings = settings;
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public async Task<HeartbeatOutcome> HeartbeatAsync(BrokerHeartbeat heartbeat, CancellationToken ct)
    {
        if (!_log.IsActiveController) throw new NotControllerException($"Node {_log.NodeId} is not the active controller.");
        int id = heartbeat.Registration.BrokerId;
        lock (_gate) _lastHeartbeat[id] = _time.GetTimestamp();
        long? registeredAt = await _controller.RegisterIfChangedAsync(heartbeat.Registration, ct).ConfigureAwait(false);
        if (registeredAt is { } at) lock (_gate) _registeredAt[id] = at;
        var broker = _log.Image.Brokers.GetValueOrDefault(id);
        long catchUpTo;
        lock (_gate) catchUpTo = _registeredAt.GetValueOrDefault(id);
        bool caughtUp = heartbeat.MetadataOffset >= catchUpTo;
        if (heartbeat.WantShutDown)
        {
            if (broker is { InControlledShutdown: false })
                await _controller.FenceAsync(id, controlledShutdown: true, _settings.UncleanElection, ct).ConfigureAwait(false);
            bool done = _controller.LeadershipCount(id) == 0;
            return new HeartbeatOutcome(IsFenced: true, ShouldShutDown: done, caughtUp);
        }
        if (broker is not null && (broker.Fenced || broker.InControlledShutdown) && caughtUp)
            await _controller.UnfenceAsync(id, ct).ConfigureAwait(false);
        broker = _log.Image.Brokers.GetValueOrDefault(id);
        return new HeartbeatOutcome(broker?.Fenced ?? true, false, caughtUp);
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Tick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await CheckAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is MetadataConflictException or NotControllerException)
                {
                    // Retried on the next tick against the new image (or by the next controller).
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning(e, "Active controller check failed; retrying");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CheckAsync(CancellationToken ct)
    {
        bool leader = _log.IsActiveController;
        long now = _time.GetTimestamp();
        if (!leader)
        {
            _wasLeader = false;
            return;
        }
        var image = _log.Image;
        if (!_wasLeader)
        {
            // New term: nobody has heartbeated to us yet. Start every session now rather than fence the whole cluster.
            lock (_gate)
            {
                _lastHeartbeat.Clear();
                foreach (var id in image.Brokers.Keys) _lastHeartbeat[id] = now;
            }
            _nextRebalance = now + (long)(_settings.LeaderImbalanceCheckInterval.TotalSeconds * _time.TimestampFrequency);
            _wasLeader = true;
            _logger.LogInformation("Node {NodeId} is the active controller at metadata offset {Offset}", _log.NodeId, image.Offset);
        }
        List<int> expired;
        lock (_gate)
        {
            expired = image.Brokers.Values
                .Where(b => !b.Fenced && _time.GetElapsedTime(_lastHeartbeat.GetValueOrDefault(b.BrokerId, now), now) > _settings.SessionTimeout)
                .Select(b => b.BrokerId).ToList();
        }
        foreach (var id in expired)
        {
            _logger.LogWarning("Broker {Broker} missed heartbeats for {Timeout}; fencing it", id, _settings.SessionTimeout);
            await _controller.FenceAsync(id, controlledShutdown: false, _settings.UncleanElection, ct).ConfigureAwait(false);
        }
        if (_settings.AutoLeaderRebalance && now >= _nextRebalance)
        {
            _nextRebalance = now + (long)(_settings.LeaderImbalanceCheckInterval.TotalSeconds * _time.TimestampFrequency);
            await _controller.ElectLeadersAsync(null, unclean: false, ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
