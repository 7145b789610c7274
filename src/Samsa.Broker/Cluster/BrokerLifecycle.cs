using Microsoft.Extensions.Logging;
using Samsa.Metadata;

namespace Samsa.Broker.Cluster;

/// <summary>
/// This node's side of broker liveness (Kafka's BrokerLifecycleManager): heartbeats carrying its registration and
/// metadata offset every broker.heartbeat.interval.ms to the active controller, which registers it fenced, unfences it
/// once caught up, and fences it when heartbeats stop. <see cref="ControlledShutdownAsync"/> asks the controller to move
/// leadership away before the node stops.
/// </summary>
public sealed class BrokerLifecycle : IAsyncDisposable
{
    private readonly ControllerChannel _channel;
    private readonly RegisterBrokerRecord _registration;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _unfenced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private volatile bool _fenced = true;

    public BrokerLifecycle(ControllerChannel channel, RegisterBrokerRecord registration, TimeSpan interval, ILogger<BrokerLifecycle> logger)
    {
        _channel = channel;
        _registration = registration;
        _interval = interval;
        _logger = logger;
    }

    public bool IsFenced => _fenced;

    /// <summary>Completes the first time the controller reports this broker unfenced.</summary>
    public Task Unfenced => _unfenced.Task;

    public void Start() => _loop = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        bool warned = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var outcome = await _channel.HeartbeatAsync(new HeartbeatRpc(_registration, _channel.Log.Image.Offset, false), _stop.Token)
                    .ConfigureAwait(false);
                if (_fenced != outcome.IsFenced)
                    _logger.LogInformation("Broker {Broker} is now {State}", _registration.BrokerId, outcome.IsFenced ? "fenced" : "unfenced");
                _fenced = outcome.IsFenced;
                if (!outcome.IsFenced) _unfenced.TrySetResult();
                warned = false;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NotControllerException or IOException or MetadataConflictException or InvalidOperationException)
            {
                if (!warned) _logger.LogInformation("Heartbeat to the controller failed ({Reason}); retrying", e.Message);
                warned = true;
            }
            try
            {
                // Heartbeat faster while fenced, so a caught-up broker is unfenced without waiting a full interval.
                await Task.Delay(_fenced ? TimeSpan.FromMilliseconds(Math.Min(200, _interval.TotalMilliseconds)) : _interval, _stop.Token)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Stops heartbeating and asks the controller to move leadership away (want_shut_down) until it answers
    /// should_shut_down or <paramref name="timeout"/> passes; the node then stops (Kafka's controlled shutdown).
    /// </summary>
    public async Task ControlledShutdownAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        using var cts = new CancellationTokenSource(timeout);
        while (!cts.IsCancellationRequested)
        {
            try
            {
                var outcome = await _channel.HeartbeatAsync(new HeartbeatRpc(_registration, _channel.Log.Image.Offset, true), cts.Token)
                    .ConfigureAwait(false);
                if (outcome.ShouldShutDown)
                {
                    _logger.LogInformation("Controlled shutdown: the controller moved leadership away from broker {Broker}", _registration.BrokerId);
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception e) when (e is NotControllerException or IOException or MetadataConflictException or InvalidOperationException)
            {
            }
            try
            {
                await Task.Delay(100, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        _logger.LogWarning("Controlled shutdown did not complete within {Timeout}; stopping anyway", timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }
}
