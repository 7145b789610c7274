// DescribeCluster (key 60), versions 0-1. Brokers are the live (unfenced) registered brokers at their endpoint on the
// request's listener; controller_id is the active controller (the metadata quorum's Raft leader), -1 during an election.
// EndpointType 1 (brokers) is served; 2 (controllers, KIP-919) answers UNSUPPORTED_ENDPOINT_TYPE until the
// cluster issue adds controller listeners.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeClusterHandler(IMetadataLog metadata, NodeInfo node) : ApiHandler<DescribeClusterRequest, DescribeClusterResponse>
{
    private static readonly AclOperation[] ClusterOperations =
        [AclOperation.Create, AclOperation.Alter, AclOperation.Describe, AclOperation.ClusterAction,
         AclOperation.DescribeConfigs, AclOperation.AlterConfigs, AclOperation.IdempotentWrite];

    public override ApiKey ApiKey => ApiKey.DescribeCluster;
    public override VersionRange Versions => new(0, 1);

    protected override ValueTask<DescribeClusterResponse?> HandleAsync(RequestContext context, DescribeClusterRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeClusterResponse { ClusterId = node.ClusterId, ControllerId = metadata.ControllerId ?? (metadata is LocalMetadataLog ? node.NodeId : -1), EndpointType = request.EndpointType };
        if (request.EndpointType != 1)
        {
            response.ErrorCode = (short)ErrorCode.UnsupportedEndpointType;
            response.ErrorMessage = "Only broker endpoints (type 1) are served.";
            return ValueTask.FromResult<DescribeClusterResponse?>(response);
        }
        if (!context.Authorize(AclOperation.Describe, ResourceType.Cluster, "kafka-cluster"))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            return ValueTask.FromResult<DescribeClusterResponse?>(response);
        }
        foreach (var broker in metadata.Image.Brokers.Values.Where(b => !b.Fenced).OrderBy(b => b.BrokerId))
        {
            var endpoint = broker.Endpoints.FirstOrDefault(e => e.Name == context.Session.ListenerName);
            if (endpoint is not null)
                response.Brokers.Add(new() { BrokerId = broker.BrokerId, Host = endpoint.Host, Port = endpoint.Port, Rack = broker.Rack });
        }
        if (request.IncludeClusterAuthorizedOperations)
            response.ClusterAuthorizedOperations = MetadataHandler.AuthorizedOperations(context, ResourceType.Cluster, "kafka-cluster", ClusterOperations);
        return ValueTask.FromResult<DescribeClusterResponse?>(response);
    }
}
