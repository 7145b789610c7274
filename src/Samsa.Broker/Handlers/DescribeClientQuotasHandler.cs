// DescribeClientQuotas (key 48), versions 0-1.
// Authorization: DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED). Filter semantics are KRaft's
// ClientQuotasImage.describe: components of type user, client-id or ip, each at most once; match type 0 (exact name),
// 1 (the default entity) or 2 (any entity that has the type, default included); strict keeps only entities with
// exactly the filtered types. Invalid filters → INVALID_REQUEST, unknown entity or match types → UNSUPPORTED_VERSION,
// as Kafka.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeClientQuotasHandler(IMetadataLog metadata) : ApiHandler<DescribeClientQuotasRequest, DescribeClientQuotasResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeClientQuotas;
    public override VersionRange Versions => new(0, 1);

    protected override ValueTask<DescribeClientQuotasResponse?> HandleAsync(RequestContext context, DescribeClientQuotasRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeClientQuotasResponse { ErrorMessage = null };
        if (!context.Authorize(AclOperation.DescribeConfigs, ResourceType.Cluster, Controller.ClusterResourceName))
            return Fail(response, ErrorCode.ClusterAuthorizationFailed, "Cluster authorization failed.");

        var exact = new Dictionary<string, string?>(StringComparer.Ordinal);
        var specified = new HashSet<string>(StringComparer.Ordinal);
        foreach (var component in request.Components)
        {
            string type = component.EntityType;
            if (type.Length == 0) return Fail(response, ErrorCode.InvalidRequest, "Invalid empty entity type.");
            if (exact.ContainsKey(type) || specified.Contains(type))
                return Fail(response, ErrorCode.InvalidRequest, $"Entity type {type} cannot appear more than once in the filter.");
            if (type is not (ClientQuotaEntity.UserType or ClientQuotaEntity.ClientIdType or ClientQuotaEntity.IpType))
                return Fail(response, ErrorCode.UnsupportedVersion, $"Unsupported entity type {type}.");
            switch (component.MatchType)
            {
                case 0 when component.Match is null:
                    return Fail(response, ErrorCode.InvalidRequest, "Request specified MATCH_TYPE_EXACT, but set match string to null.");
                case 0:
                    exact[type] = component.Match;
                    break;
                case 1 or 2 when component.Match is not null:
                    return Fail(response, ErrorCode.InvalidRequest, "Request specified a match string with a match type that takes none.");
                case 1:
                    exact[type] = null;
                    break;
                case 2:
                    specified.Add(type);
                    break;
                default:
                    return Fail(response, ErrorCode.UnsupportedVersion, $"Unsupported match type {component.MatchType}.");
            }
        }
        bool ip = exact.ContainsKey(ClientQuotaEntity.IpType) || specified.Contains(ClientQuotaEntity.IpType);
        if (ip && exact.Count + specified.Count > 1)
            return Fail(response, ErrorCode.InvalidRequest,
                "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.");

        foreach (var (entity, values) in metadata.Image.ClientQuotas.OrderBy(e => e.Key.ToString(), StringComparer.Ordinal))
        {
            var parts = entity.ToParts();
            if (request.Strict && parts.Length != exact.Count + specified.Count) continue;
            bool matches = exact.All(m => parts.Any(p => p.EntityType == m.Key && p.EntityName == m.Value))
                && specified.All(t => parts.Any(p => p.EntityType == t));
            if (!matches) continue;
            var entry = new DescribeClientQuotasResponse.EntryData();
            foreach (var part in parts) entry.Entity.Add(new() { EntityType = part.EntityType, EntityName = part.EntityName });
            foreach (var (key, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal)) entry.Values.Add(new() { Key = key, Value = value });
            response.Entries!.Add(entry);
        }
        return ValueTask.FromResult<DescribeClientQuotasResponse?>(response);
    }

    private static ValueTask<DescribeClientQuotasResponse?> Fail(DescribeClientQuotasResponse response, ErrorCode error, string message)
    {
        response.ErrorCode = (short)error;
        response.ErrorMessage = message;
        response.Entries = null;
        return ValueTask.FromResult<DescribeClientQuotasResponse?>(response);
    }
}
