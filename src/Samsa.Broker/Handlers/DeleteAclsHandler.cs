// DeleteAcls (key 31), versions 1-3 (Kafka 4 removed v0, KIP-896).
// Authorization: ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED on every filter result). Without an ACL
// authorizer: SECURITY_DISABLED. Every ACL matching a filter (Kafka's AclBindingFilter semantics, see
// DescribeAclsHandler) is removed through the controller in one metadata batch; each filter's result lists the ACLs
// it matched. A filter with an UNKNOWN element fails alone with INVALID_REQUEST.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DeleteAclsHandler(Controller controller) : ApiHandler<DeleteAclsRequest, DeleteAclsResponse>
{
    public override ApiKey ApiKey => ApiKey.DeleteAcls;
    public override VersionRange Versions => new(1, 3);

    protected override async ValueTask<DeleteAclsResponse?> HandleAsync(RequestContext context, DeleteAclsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteAclsResponse();
        if (AclApis.Check(context, AclOperation.Alter) is { } failure)
        {
            foreach (var _ in request.Filters)
                response.FilterResults.Add(new() { ErrorCode = (short)failure.Error, ErrorMessage = failure.Message });
            return response;
        }
        var filters = request.Filters.Select(f => AclApis.Filter(f.ResourceTypeFilter, f.ResourceNameFilter, f.PatternTypeFilter,
            f.PrincipalFilter, f.HostFilter, f.Operation, f.PermissionType)).ToList();
        var results = await controller.DeleteAclsAsync(filters, cancellationToken).ConfigureAwait(false);
        foreach (var (result, deleted) in results)
        {
            var filterResult = new DeleteAclsResponse.DeleteAclsFilterResult
            {
                ErrorCode = (short)result.Error, ErrorMessage = result.IsOk ? null : result.Message,
            };
            foreach (var acl in deleted)
                filterResult.MatchingAcls.Add(new()
                {
                    ErrorMessage = null, ResourceType = acl.ResourceType, ResourceName = acl.ResourceName, PatternType = (sbyte)acl.PatternType,
                    Principal = acl.Principal, Host = acl.Host, Operation = acl.Operation, PermissionType = (sbyte)acl.PermissionType,
                });
            response.FilterResults.Add(filterResult);
        }
        return response;
    }
}
