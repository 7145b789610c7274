// FindCoordinator (key 10), versions 0-6.
// Key type 0 (group): the leader of the group's __consumer_offsets partition (Kafka's hash of the group id), which
// is created on first need. v4+ batches keys (KIP-699). Key type 1 (transaction): the leader of the transactional id's
// __transaction_state partition (same hash), created on first need; other key types INVALID_REQUEST. The endpoint is
// the one of the listener the client is connected to. Authorization: DESCRIBE on the group / the transactional id.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class FindCoordinatorHandler(GroupCoordinator groups, IMetadataLog metadata, NodeInfo node,
    Transactions.TransactionCoordinator transactions)
    : ApiHandler<FindCoordinatorRequest, FindCoordinatorResponse>
{
    public override ApiKey ApiKey => ApiKey.FindCoordinator;
    public override VersionRange Versions => new(0, 6);

    protected override async ValueTask<FindCoordinatorResponse?> HandleAsync(RequestContext context, FindCoordinatorRequest request, CancellationToken cancellationToken)
    {
        var response = new FindCoordinatorResponse();
        if (context.ApiVersion >= 4)
        {
            foreach (string key in request.CoordinatorKeys)
            {
                var (error, nodeId, host, port) = await FindAsync(context, key, request.KeyType, cancellationToken).ConfigureAwait(false);
                response.Coordinators.Add(new() { Key = key, ErrorCode = (short)error, NodeId = nodeId, Host = host, Port = port, ErrorMessage = null });
            }
            return response;
        }
        var (e, n, h, p) = await FindAsync(context, request.Key, request.KeyType, cancellationToken).ConfigureAwait(false);
        response.ErrorCode = (short)e;
        response.NodeId = n;
        response.Host = h;
        response.Port = p;
        response.ErrorMessage = null;
        return response;
    }

    private async Task<(ErrorCode Error, int NodeId, string Host, int Port)> FindAsync(RequestContext context, string key, sbyte keyType, CancellationToken ct)
    {
        int leader;
        if (keyType == 1)
        {
            if (!context.Authorize(AclOperation.Describe, ResourceType.TransactionalId, key)) return (ErrorCode.TransactionalIdAuthorizationFailed, -1, "", -1);
            if (!await transactions.EnsureTopicAsync(ct).ConfigureAwait(false)) return (ErrorCode.CoordinatorNotAvailable, -1, "", -1);
            leader = transactions.CoordinatorNodeFor(key);
        }
        else
        {
            if (keyType != 0) return (ErrorCode.InvalidRequest, -1, "", -1);
            if (!context.Authorize(AclOperation.Describe, ResourceType.Group, key)) return (ErrorCode.GroupAuthorizationFailed, -1, "", -1);
            if (!await groups.EnsureOffsetsTopicAsync(ct).ConfigureAwait(false)) return (ErrorCode.CoordinatorNotAvailable, -1, "", -1);
            leader = groups.CoordinatorNodeFor(key);
        }
        if (leader < 0) return (ErrorCode.CoordinatorNotAvailable, -1, "", -1);
        if (leader == node.NodeId)
        {
            var self = node.AdvertisedEndpoints.FirstOrDefault(e => e.Name == context.Session.ListenerName) ?? node.AdvertisedEndpoints[0];
            return (ErrorCode.None, leader, self.Host, self.Port);
        }
        var broker = metadata.Image.Brokers.GetValueOrDefault(leader);
        var endpoint = broker is null ? null : NodeInfo.EndpointFor(broker, context.Session.ListenerName);
        return endpoint is null ? (ErrorCode.CoordinatorNotAvailable, -1, "", -1) : (ErrorCode.None, leader, endpoint.Host, endpoint.Port);
    }
}
