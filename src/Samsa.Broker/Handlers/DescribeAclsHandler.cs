// DescribeAcls (key 29), versions 1-3 (Kafka 4 removed v0, KIP-896).
// Authorization: DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED). Without an ACL authorizer: SECURITY_DISABLED.
// The filter has Kafka's AclBindingFilter semantics (null/ANY match everything; a MATCH pattern with a name returns
// the LITERAL, wildcard and PREFIXED ACLs that apply to that resource). A filter with an UNKNOWN element is
// INVALID_REQUEST (Kafka rejects it while parsing). ACLs are grouped by resource pattern, as Kafka answers.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeAclsHandler(IMetadataLog metadata) : ApiHandler<DescribeAclsRequest, DescribeAclsResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeAcls;
    public override VersionRange Versions => new(1, 3);

    protected override ValueTask<DescribeAclsResponse?> HandleAsync(RequestContext context, DescribeAclsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeAclsResponse { ErrorMessage = null };
        if (AclApis.Check(context, AclOperation.Describe) is { } failure)
        {
            response.ErrorCode = (short)failure.Error;
            response.ErrorMessage = failure.Message;
            return ValueTask.FromResult<DescribeAclsResponse?>(response);
        }
        var filter = AclApis.Filter(request.ResourceTypeFilter, request.ResourceNameFilter, request.PatternTypeFilter,
            request.PrincipalFilter, request.HostFilter, request.Operation, request.PermissionType);
        if (filter.IsUnknown)
        {
            response.ErrorCode = (short)ErrorCode.InvalidRequest;
            response.ErrorMessage = "The filter contains UNKNOWN elements.";
            return ValueTask.FromResult<DescribeAclsResponse?>(response);
        }
        var matching = metadata.Image.Acls.Values.Where(filter.Matches)
            .GroupBy(a => (a.ResourceType, a.ResourceName, a.PatternType))
            .OrderBy(g => g.Key.ResourceType).ThenBy(g => g.Key.ResourceName, StringComparer.Ordinal).ThenBy(g => g.Key.PatternType);
        foreach (var group in matching)
        {
            var resource = new DescribeAclsResponse.DescribeAclsResource
            {
                ResourceType = group.Key.ResourceType, ResourceName = group.Key.ResourceName, PatternType = (sbyte)group.Key.PatternType,
            };
            foreach (var acl in group.OrderBy(a => a.Principal, StringComparer.Ordinal).ThenBy(a => a.Operation).ThenBy(a => a.PermissionType))
                resource.Acls.Add(new() { Principal = acl.Principal, Host = acl.Host, Operation = acl.Operation, PermissionType = (sbyte)acl.PermissionType });
            response.Resources.Add(resource);
        }
        return ValueTask.FromResult<DescribeAclsResponse?>(response);
    }
}
