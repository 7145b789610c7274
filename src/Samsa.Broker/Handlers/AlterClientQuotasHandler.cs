// AlterClientQuotas (key 49), versions 0-1.
// Authorization: ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED on every entry). Each entry is validated
// and applied on its own by the controller (KRaft's ClientQuotaControlManager): entities user, client-id,
// user+client-id or ip (a null name is the default entity); keys producer_byte_rate and consumer_byte_rate (whole
// numbers), request_percentage and controller_mutation_rate, or connection_creation_rate for ip entities; otherwise
// INVALID_REQUEST. Deviation: values must be positive (Kafka accepts 0, which blocks a client entirely).
// controller_mutation_rate and connection_creation_rate are stored and described but not enforced.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class AlterClientQuotasHandler(Controller controller) : ApiHandler<AlterClientQuotasRequest, AlterClientQuotasResponse>
{
    public override ApiKey ApiKey => ApiKey.AlterClientQuotas;
    public override VersionRange Versions => new(0, 1);

    protected override async ValueTask<AlterClientQuotasResponse?> HandleAsync(RequestContext context, AlterClientQuotasRequest request, CancellationToken cancellationToken)
    {
        var response = new AlterClientQuotasResponse();
        bool authorized = context.Authorize(AclOperation.AlterConfigs, ResourceType.Cluster, Controller.ClusterResourceName);
        foreach (var entry in request.Entries)
        {
            var result = new AlterClientQuotasResponse.EntryData();
            foreach (var e in entry.Entity) result.Entity.Add(new() { EntityType = e.EntityType, EntityName = e.EntityName });
            response.Entries.Add(result);
            if (!authorized)
            {
                result.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
                result.ErrorMessage = "Cluster authorization failed.";
                continue;
            }
            var parts = entry.Entity.Select(e => new ClientQuotaEntityPart(e.EntityType, e.EntityName)).ToList();
            var ops = entry.Ops.Select(o => new ClientQuotaOp(o.Key, o.Value, o.Remove)).ToList();
            var outcome = await controller.AlterClientQuotaAsync(parts, ops, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)outcome.Error;
            result.ErrorMessage = outcome.IsOk ? null : outcome.Message;
        }
        return response;
    }
}
