using Microsoft.Extensions.Logging;
using Samsa.Metadata;
using Samsa.Metadata.Quorum;

namespace Samsa.Broker.Cluster;

/// <summary>
/// The metadata log of a broker-only node (<c>process.roles=broker</c>): it follows the quorum without voting by
/// pulling batches (or, when too far behind, a snapshot) from a controller node every <c>pollInterval</c>, and forwards
/// its own writes to the active controller. DotNext 6.12 has no non-voting Raft member (a standby member still counts
/// towards the majority), so broker-only nodes stay outside Raft, like Kafka's brokers which fetch the metadata log.
/// The image starts empty on every start (it is rebuilt from the quorum, never trusted from disk).
/// </summary>
public sealed class ObserverMetadataLog : IMetadataLog
{
    private readonly ILogger _logger;
    private readonly TimeSpan _pollInterval;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _applyLock = new();
    private volatile MetadataImage _image = MetadataImage.Empty;
    private volatile int _controllerId = -1;
    private ControllerChannel? _channel;
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ObserverMetadataLog(TimeSpan pollInterval, ILogger<ObserverMetadataLog> logger)
    {
        _pollInterval = pollInterval;
        _logger = logger;
    }

    public MetadataImage Image => _image;

    public int? ControllerId => _controllerId >= 0 ? _controllerId : null;

    public event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied;

    public void Start(ControllerChannel channel)
    {
        _channel = channel;
        _loop = Task.Run(FollowAsync);
    }

    public ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default) =>
        AppendAsync(batch, -1, cancellationToken);

    public async ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, long expectedOffset, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return;
        var channel = _channel ?? throw new NotControllerException("The metadata log is not started.");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (ControllerId is { } controller)
                {
                    long offset = await channel.ForwardAsync(controller, expectedOffset, batch, cancellationToken).ConfigureAwait(false);
                    await WaitForOffsetAsync(offset, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            catch (MetadataConflictException e)
            {
                await WaitForOffsetAsync(e.Actual, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                throw;
            }
            catch (Exception e) when (e is NotControllerException or IOException or InvalidOperationException)
            {
                last = e;
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        throw new NotControllerException("No active controller accepted the metadata write in time.", last);
    }

    public async Task WaitForOffsetAsync(long offset, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            while (_image.Offset < offset) await Volatile.Read(ref _advanced).Task.WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }

    private async Task FollowAsync()
    {
        var channel = _channel!;
        int next = 0;
        while (!_stop.IsCancellationRequested)
        {
            var candidates = channel.CandidateEndpoints().Distinct().ToList();
            if (candidates.Count > 0)
            {
                var (host, port) = candidates[next++ % candidates.Count];
                try
                {
                    var response = await channel.CallAsync(host, port, new FetchRpc(_image.Offset, 500), _stop.Token).ConfigureAwait(false);
                    if (response.Status == RpcStatus.Ok)
                    {
                        next--; // keep asking the node that answered
                        Apply(response);
                        if (response.Offset > _image.Offset) continue; // more to fetch right away
                    }
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or System.Text.Json.JsonException)
                {
                    _logger.LogDebug(e, "Fetching metadata from {Host}:{Port} failed", host, port);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
            try
            {
                await Task.Delay(_pollInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Apply(ControllerRpcResponse response)
    {
        if (response.ControllerId is { } controller) _controllerId = controller;
        lock (_applyLock)
        {
            if (response.Snapshot is { } snapshot && snapshot.Offset > _image.Offset)
            {
                _logger.LogInformation("Installing metadata snapshot at offset {Offset} ({Records} records)", snapshot.Offset, snapshot.Records.Length);
                Publish(snapshot.ToImage(), snapshot.Records);
            }
            foreach (var batch in response.Batches ?? [])
            {
                if (batch.Offset != _image.Offset + 1) continue; // already applied, or a gap: the next fetch resumes
                Publish(_image.Apply(batch.Records), batch.Records);
            }
        }
    }

    private void Publish(MetadataImage image, IReadOnlyList<MetadataRecord> records)
    {
        _image = image;
        Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        if (Applied is not { } applied) return;
        foreach (var subscriber in applied.GetInvocationList().Cast<Action<MetadataImage, IReadOnlyList<MetadataRecord>>>())
        {
            try
            {
                subscriber(image, records);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Applying metadata batch {Offset} in {Subscriber} failed", image.Offset, subscriber.Method.DeclaringType?.Name);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
