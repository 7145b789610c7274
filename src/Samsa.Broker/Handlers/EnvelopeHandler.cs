// Envelope (key 58), version 0.
// Deviation from Kafka (KIP-590): Samsa uses Envelope only between its own nodes, to carry controller calls (metadata
// batch appends with optimistic concurrency, broker heartbeats with registration, metadata fetches by broker-only
// nodes) as JSON in request_data, not to wrap a client's Kafka request. Requires CLUSTER_ACTION on the cluster, as
// Kafka does; a body that is not a controller call gets INVALID_REQUEST.
using System.Text.Json;
using Samsa.Broker.Api;
using Samsa.Broker.Cluster;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class EnvelopeHandler(ControllerChannel channel) : ApiHandler<EnvelopeRequest, EnvelopeResponse>
{
    public override ApiKey ApiKey => ApiKey.Envelope;
    public override VersionRange Versions => new(0, 0);

    protected override async ValueTask<EnvelopeResponse?> HandleAsync(RequestContext context, EnvelopeRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.ClusterAction, ResourceType.Cluster, "kafka-cluster"))
            return new EnvelopeResponse { ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed };
        ControllerRpcRequest call;
        try
        {
            call = ControllerRpcJson.Deserialize<ControllerRpcRequest>(request.RequestData);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return new EnvelopeResponse { ErrorCode = (short)ErrorCode.InvalidRequest };
        }
        var response = await channel.ServeAsync(call, cancellationToken).ConfigureAwait(false);
        return new EnvelopeResponse { ResponseData = ControllerRpcJson.Serialize(response) };
    }
}
