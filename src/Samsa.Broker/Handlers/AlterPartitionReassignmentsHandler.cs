// AlterPartitionReassignments (key 45), version 0 (KIP-455).
// Starts, replaces or (with null replicas) cancels online reassignments; the controller records the target in the
// partition (adding/removing replicas) and completes it once every adding replica is in the ISR (Controller.Reassignment.cs).
// Authorization: ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top level and on every partition.
// Per partition: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (empty, duplicate or unregistered brokers),
// NO_REASSIGNMENT_IN_PROGRESS (cancel without one), INVALID_REQUEST (partition listed twice). All accepted partitions
// are written in one metadata batch. Deviation: timeout_ms is not used — the controller answers once the batch is
// committed, which is what Kafka's timeout bounds.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class AlterPartitionReassignmentsHandler(Controller controller)
    : ApiHandler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>
{
    public override ApiKey ApiKey => ApiKey.AlterPartitionReassignments;
    public override VersionRange Versions => new(0, 0);

    protected override async ValueTask<AlterPartitionReassignmentsResponse?> HandleAsync(
        RequestContext context, AlterPartitionReassignmentsRequest request, CancellationToken cancellationToken)
    {
        var response = new AlterPartitionReassignmentsResponse { ErrorMessage = null };
        var specs = request.Topics.SelectMany(t => t.Partitions.Select(p => new ReassignmentSpec(t.Name, p.PartitionIndex, p.Replicas?.ToArray()))).ToList();
        IReadOnlyList<ControllerResult> results;
        if (!context.Authorize(AclOperation.Alter, ResourceType.Cluster, Controller.ClusterResourceName))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            results = [.. specs.Select(_ => new ControllerResult(ErrorCode.ClusterAuthorizationFailed))];
        }
        else
        {
            results = await controller.AlterPartitionReassignmentsAsync(specs, cancellationToken).ConfigureAwait(false);
        }
        int i = 0;
        foreach (var topic in request.Topics)
        {
            var topicResponse = new AlterPartitionReassignmentsResponse.ReassignableTopicResponse { Name = topic.Name };
            response.Responses.Add(topicResponse);
            foreach (var partition in topic.Partitions)
            {
                var result = results[i++];
                topicResponse.Partitions.Add(new()
                {
                    PartitionIndex = partition.PartitionIndex, ErrorCode = (short)result.Error, ErrorMessage = result.IsOk ? null : result.Message,
                });
            }
        }
        return response;
    }
}
