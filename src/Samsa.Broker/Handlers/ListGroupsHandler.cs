// ListGroups (key 16), versions 0-5.
// Every group of every coordinator shard on this node (classic groups, and groups created by simple offset
// commits, as Kafka lists them). v4+ states filter (KIP-518), v5+ types filter "classic"/"consumer" (KIP-848),
// both case-insensitive. A shard still loading sets COORDINATOR_LOAD_IN_PROGRESS while the others' groups are
// still listed. Authorization: DESCRIBE on the cluster lists every group, else only groups with DESCRIBE.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ListGroupsHandler(GroupCoordinator groups) : ApiHandler<ListGroupsRequest, ListGroupsResponse>
{
    public override ApiKey ApiKey => ApiKey.ListGroups;
    public override VersionRange Versions => new(0, 5);

    protected override ValueTask<ListGroupsResponse?> HandleAsync(RequestContext context, ListGroupsRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var response = new ListGroupsResponse();
        bool cluster = context.Authorize(AclOperation.Describe, ResourceType.Cluster, "kafka-cluster");
        var states = version >= 4 ? request.StatesFilter : [];
        var types = version >= 5 ? request.TypesFilter : [];
        foreach (var shard in groups.Shards.OrderBy(s => s.PartitionIndex))
        {
            var (error, listed) = shard.ListGroups(states, types);
            if (error != ErrorCode.None) response.ErrorCode = (short)error;
            foreach (var g in listed)
                if (cluster || context.Authorize(AclOperation.Describe, ResourceType.Group, g.GroupId))
                    response.Groups.Add(new() { GroupId = g.GroupId, ProtocolType = g.ProtocolType, GroupState = g.State, GroupType = g.Type });
        }
        return ValueTask.FromResult<ListGroupsResponse?>(response);
    }
}
