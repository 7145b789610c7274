// ListPartitionReassignments (key 46), version 0 (KIP-455).
// Lists ongoing reassignments: each with its current replicas (target ∪ original) and the adding/removing replicas.
// Null topics means all partitions; listed partitions that do not exist or are not being reassigned are left out,
// as Kafka does. Authorization: DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ListPartitionReassignmentsHandler(Controller controller)
    : ApiHandler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>
{
    public override ApiKey ApiKey => ApiKey.ListPartitionReassignments;
    public override VersionRange Versions => new(0, 0);

    protected override ValueTask<ListPartitionReassignmentsResponse?> HandleAsync(
        RequestContext context, ListPartitionReassignmentsRequest request, CancellationToken cancellationToken)
    {
        var response = new ListPartitionReassignmentsResponse { ErrorMessage = null };
        if (!context.Authorize(AclOperation.Describe, ResourceType.Cluster, Controller.ClusterResourceName))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            return ValueTask.FromResult<ListPartitionReassignmentsResponse?>(response);
        }
        var filter = request.Topics?.SelectMany(t => t.PartitionIndexes.Select(p => (t.Name, p))).ToList();
        foreach (var group in controller.ListPartitionReassignments(filter).GroupBy(r => r.Topic))
        {
            var topic = new ListPartitionReassignmentsResponse.OngoingTopicReassignment { Name = group.Key };
            foreach (var r in group)
                topic.Partitions.Add(new()
                {
                    PartitionIndex = r.Partition, Replicas = [.. r.Replicas], AddingReplicas = [.. r.AddingReplicas], RemovingReplicas = [.. r.RemovingReplicas],
                });
            response.Topics.Add(topic);
        }
        return ValueTask.FromResult<ListPartitionReassignmentsResponse?>(response);
    }
}
