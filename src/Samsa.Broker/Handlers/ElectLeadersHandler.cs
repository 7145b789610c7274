// ElectLeaders (key 43), versions 0-2 (KIP-460: v1 adds election_type and a top-level error; v2 is flexible).
// PREFERRED (0, the only type of v0) makes each partition's first replica its leader when it is live and in the ISR:
// ELECTION_NOT_NEEDED when it already leads, PREFERRED_LEADER_NOT_AVAILABLE otherwise. UNCLEAN (1) gives a leaderless
// partition any live replica even outside the ISR (data may be lost): ELECTION_NOT_NEEDED when it has a leader,
// ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live. Null topic_partitions means every partition, and then (as
// Kafka) partitions answering ELECTION_NOT_NEEDED are left out. Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION.
// Another election type: INVALID_REQUEST. Authorization: ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED (top
// level, and on every partition). Deviation: timeout_ms is not used; the answer comes once the election is committed.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ElectLeadersHandler(Controller controller) : ApiHandler<ElectLeadersRequest, ElectLeadersResponse>
{
    private const sbyte Preferred = 0;
    private const sbyte Unclean = 1;

    public override ApiKey ApiKey => ApiKey.ElectLeaders;
    public override VersionRange Versions => new(0, 2);

    protected override async ValueTask<ElectLeadersResponse?> HandleAsync(RequestContext context, ElectLeadersRequest request, CancellationToken cancellationToken)
    {
        var response = new ElectLeadersResponse();
        var requested = request.TopicPartitions?.SelectMany(t => t.Partitions.Select(p => (t.Topic, p))).Distinct().ToList();
        sbyte type = context.Header.ApiVersion == 0 ? Preferred : request.ElectionType;
        ErrorCode failure = ErrorCode.None;
        if (!context.Authorize(AclOperation.Alter, ResourceType.Cluster, Controller.ClusterResourceName))
            failure = ErrorCode.ClusterAuthorizationFailed;
        else if (type is not (Preferred or Unclean))
            failure = ErrorCode.InvalidRequest;
        if (failure != ErrorCode.None)
        {
            response.ErrorCode = (short)failure;
            foreach (var group in (requested ?? []).GroupBy(r => r.Topic))
                response.ReplicaElectionResults.Add(new()
                {
                    Topic = group.Key,
                    PartitionResult = [.. group.Select(r => new ElectLeadersResponse.PartitionResult { PartitionId = r.p, ErrorCode = (short)failure, ErrorMessage = null })],
                });
            return response;
        }

        var results = await controller.ElectLeadersAsync(requested, type == Unclean, cancellationToken).ConfigureAwait(false);
        foreach (var group in results.Where(r => requested is not null || r.Error != ErrorCode.ElectionNotNeeded).GroupBy(r => r.Topic))
            response.ReplicaElectionResults.Add(new()
            {
                Topic = group.Key,
                PartitionResult = [.. group.Select(r => new ElectLeadersResponse.PartitionResult
                {
                    PartitionId = r.Partition, ErrorCode = (short)r.Error, ErrorMessage = r.Error == ErrorCode.None ? null : r.Message,
                })],
            });
        return response;
    }
}
