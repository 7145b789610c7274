// CreateAcls (key 30), versions 1-3 (Kafka 4 removed v0, KIP-896).
// Authorization: ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED on every result). Without an ACL authorizer
// (authorizer.class.name empty) every result is SECURITY_DISABLED. Each ACL is validated on its own (resource type,
// LITERAL/PREFIXED pattern, operation, permission, non-empty name, "kafka-cluster" for the cluster, "Type:name"
// principal → INVALID_REQUEST); valid ones are written to the metadata log in one batch. Creating an ACL that already
// exists succeeds without a duplicate, as Kafka's KRaft AclControlManager does.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class CreateAclsHandler(Controller controller) : ApiHandler<CreateAclsRequest, CreateAclsResponse>
{
    public override ApiKey ApiKey => ApiKey.CreateAcls;
    public override VersionRange Versions => new(1, 3);

    protected override async ValueTask<CreateAclsResponse?> HandleAsync(RequestContext context, CreateAclsRequest request, CancellationToken cancellationToken)
    {
        var response = new CreateAclsResponse();
        var failure = AclApis.Check(context, AclOperation.Alter);
        if (failure is { } f)
        {
            foreach (var _ in request.Creations)
                response.Results.Add(new() { ErrorCode = (short)f.Error, ErrorMessage = f.Message });
            return response;
        }
        var acls = request.Creations.Select(c => new AccessControlEntryRecord(
            Guid.Empty, c.ResourceType, c.ResourceName, (AclPatternType)c.ResourcePatternType,
            c.Principal, c.Host, c.Operation, (AclPermissionType)c.PermissionType)).ToList();
        var results = await controller.CreateAclsAsync(acls, cancellationToken).ConfigureAwait(false);
        foreach (var result in results)
            response.Results.Add(new() { ErrorCode = (short)result.Error, ErrorMessage = result.IsOk ? null : result.Message });
        return response;
    }
}

/// <summary>What the three ACL APIs share: the cluster authorization and the "no authorizer" answer.</summary>
internal static class AclApis
{
    /// <summary>CLUSTER_AUTHORIZATION_FAILED without <paramref name="operation"/> on the cluster, SECURITY_DISABLED without ACLs.</summary>
    public static ControllerResult? Check(RequestContext context, AclOperation operation)
    {
        if (!context.Authorize(operation, ResourceType.Cluster, Controller.ClusterResourceName))
            return new(ErrorCode.ClusterAuthorizationFailed, "Cluster authorization failed.");
        if (!context.Authorizer.SupportsAcls)
            return new(ErrorCode.SecurityDisabled, "No Authorizer is configured.");
        return null;
    }

    public static AclBindingFilter Filter(sbyte resourceType, string? resourceName, sbyte patternType, string? principal, string? host, sbyte operation, sbyte permission) =>
        new(resourceType, resourceName, (AclPatternType)patternType, principal, host, operation, (AclPermissionType)permission);
}
