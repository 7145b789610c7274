using Microsoft.Extensions.Logging;
using Samsa.Metadata;
using Samsa.Metadata.Quorum;

namespace Samsa.Broker.Cluster;

/// <summary>
/// How this node reaches the active controller (the metadata quorum's Raft leader) — locally when it is the leader,
/// otherwise over <see cref="ControllerClient"/> to the leader's inter-broker listener.
/// <para>Writes: the <see cref="Controller"/> runs on every node against the local image and appends its batch with the
/// offset it validated at (<see cref="IMetadataLog.AppendAsync(IReadOnlyList{MetadataRecord}, long, CancellationToken)"/>).
/// The log hands the batch to <see cref="ForwardAsync"/>, the leader appends it only if its log is still at that offset,
/// and otherwise the caller gets <see cref="MetadataConflictException"/> once it has caught up and re-runs the
/// operation (the dispatcher retries the request). So validation is always against the latest image, writes are
/// serialized by the Raft log, and no admin API needs a forwarding path of its own. Leader changes are retried inside
/// the log for a bounded time; clients finally see NOT_CONTROLLER or a timeout where Kafka would.</para>
/// <para>Liveness: every node sends a heartbeat (with its registration) every broker.heartbeat.interval.ms; broker-only
/// nodes also pull the metadata log through <see cref="ObserverMetadataLog"/>. This class serves those calls too.</para>
/// </summary>
public sealed class ControllerChannel : IAsyncDisposable
{
    private readonly IMetadataLog _log;
    private readonly RaftMetadataLog? _raft;
    private readonly ActiveController? _active;
    private readonly ControllerClient _client;
    private readonly string _interBrokerListener;
    private readonly IReadOnlyList<(string Host, int Port)> _bootstrap;
    private readonly ILogger _logger;

    public ControllerChannel(IMetadataLog log, RaftMetadataLog? raft, ActiveController? active, ControllerClient client,
        string interBrokerListener, IReadOnlyList<(string Host, int Port)> bootstrap, ILogger<ControllerChannel> logger)
    {
        _log = log;
        _raft = raft;
        _active = active;
        _client = client;
        _interBrokerListener = interBrokerListener;
        _bootstrap = bootstrap;
        _logger = logger;
        if (raft is not null) raft.Forwarder = ForwardAsync;
    }

    /// <summary>The active controller's node id as far as this node knows (null during an election).</summary>
    public int? ControllerId => _log.ControllerId;

    public IMetadataLog Log => _log;

    /// <summary>The inter-broker endpoint of node <paramref name="nodeId"/> from the image, or null if not registered.</summary>
    public (string Host, int Port)? EndpointOf(int nodeId)
    {
        if (_log.Image.Brokers.GetValueOrDefault(nodeId) is not { } broker) return null;
        var endpoint = broker.Endpoints.FirstOrDefault(e => e.Name == _interBrokerListener) ?? broker.Endpoints.FirstOrDefault();
        return endpoint is null ? null : (endpoint.Host, endpoint.Port);
    }

    /// <summary>Endpoints to ask when the controller is unknown: registered voters' brokers, then the bootstrap list.</summary>
    public IEnumerable<(string Host, int Port)> CandidateEndpoints()
    {
        if (ControllerId is { } id && EndpointOf(id) is { } known) yield return known;
        foreach (var b in _bootstrap) yield return b;
    }

    public async Task<long> ForwardAsync(int controllerId, long expectedOffset, IReadOnlyList<MetadataRecord> batch, CancellationToken ct)
    {
        var endpoint = EndpointOf(controllerId) ?? throw new NotControllerException($"Controller {controllerId} has no registered endpoint yet.");
        var response = await _client.CallAsync(endpoint.Host, endpoint.Port, new AppendRpc(expectedOffset, [.. batch]), ct).ConfigureAwait(false);
        return response.Status switch
        {
            RpcStatus.Ok => response.Offset,
            RpcStatus.Conflict => throw new MetadataConflictException(expectedOffset, response.Offset),
            RpcStatus.NotController => throw new NotControllerException(response.Message ?? $"Node {controllerId} is not the controller."),
            _ => throw new InvalidOperationException(response.Message ?? "The controller failed to append the batch."),
        };
    }

    /// <summary>Sends one heartbeat to the active controller (locally if this node is it).</summary>
    public async Task<HeartbeatOutcome> HeartbeatAsync(HeartbeatRpc heartbeat, CancellationToken ct)
    {
        if (_raft is { IsActiveController: true } && _active is not null)
            return await _active.HeartbeatAsync(new BrokerHeartbeat(heartbeat.Registration, heartbeat.MetadataOffset, heartbeat.WantShutDown), ct)
                .ConfigureAwait(false);
        var controller = ControllerId ?? throw new NotControllerException("No active controller is known yet.");
        var endpoint = EndpointOf(controller) ?? throw new NotControllerException($"Controller {controller} has no registered endpoint yet.");
        var response = await _client.CallAsync(endpoint.Host, endpoint.Port, heartbeat, ct).ConfigureAwait(false);
        if (response.Status != RpcStatus.Ok || response.Heartbeat is null)
            throw new NotControllerException(response.Message ?? $"Heartbeat to node {controller} refused.");
        return response.Heartbeat;
    }

    public Task<ControllerRpcResponse> CallAsync(string host, int port, ControllerRpcRequest request, CancellationToken ct) =>
        _client.CallAsync(host, port, request, ct);

    /// <summary>Serves a controller call that arrived in an Envelope request.</summary>
    public async Task<ControllerRpcResponse> ServeAsync(ControllerRpcRequest request, CancellationToken ct)
    {
        try
        {
            switch (request)
            {
                case FetchRpc fetch when _raft is not null:
                    var batches = _raft.BatchesSince(fetch.FromOffset, Math.Clamp(fetch.MaxBatches, 1, 1000));
                    var image = _raft.Image;
                    return batches is null
                        ? new ControllerRpcResponse { Offset = image.Offset, ControllerId = ControllerId, Snapshot = MetadataSnapshot.Of(image) }
                        : new ControllerRpcResponse
                        {
                            Offset = image.Offset, ControllerId = ControllerId,
                            Batches = [.. batches.Select(b => new MetadataBatch(b.Offset, b.Batch))],
                        };
                case AppendRpc append when _raft is { IsActiveController: true }:
                    long offset = await _raft.AppendAsLeaderAsync(append.Batch, append.ExpectedOffset, ct).ConfigureAwait(false);
                    return new ControllerRpcResponse { Offset = offset, ControllerId = _raft.NodeId };
                case HeartbeatRpc heartbeat when _raft is { IsActiveController: true } && _active is not null:
                    var outcome = await _active.HeartbeatAsync(new BrokerHeartbeat(heartbeat.Registration, heartbeat.MetadataOffset, heartbeat.WantShutDown), ct)
                        .ConfigureAwait(false);
                    return new ControllerRpcResponse { Heartbeat = outcome, ControllerId = _raft.NodeId, Offset = _raft.Image.Offset };
                default:
                    return new ControllerRpcResponse { Status = RpcStatus.NotController, ControllerId = ControllerId, Message = "Not the active controller." };
            }
        }
        catch (MetadataConflictException e)
        {
            return new ControllerRpcResponse { Status = RpcStatus.Conflict, Offset = e.Actual, ControllerId = ControllerId };
        }
        catch (NotControllerException e)
        {
            return new ControllerRpcResponse { Status = RpcStatus.NotController, ControllerId = ControllerId, Message = e.Message };
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            // A batch that does not apply to the image: refused, never appended.
            _logger.LogWarning(e, "Refused a controller call {Call}", request.GetType().Name);
            return new ControllerRpcResponse { Status = RpcStatus.Error, ControllerId = ControllerId, Message = e.Message };
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
