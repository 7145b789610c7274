// OffsetForLeaderEpoch (key 23), versions 2-4 (KIP-101, KIP-279, KIP-320).
// For each partition: the largest leader epoch ≤ the requested one that this leader knows, and the offset where it ends
// (the start of the next epoch, or the log end for the latest) — what a follower (or a consumer after a leader change)
// needs to find where its log diverges. An epoch newer than every known one → epoch -1, end offset -1; one older than
// every known one → the requested epoch and the start of the first known one (Kafka's LeaderEpochFileCache).
// current_leader_epoch is checked like Fetch (older → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH); only the
// leader answers (else NOT_LEADER_OR_FOLLOWER). v0-1 (no current leader epoch) are not served, as Kafka 4.
// Authorization: CLUSTER_ACTION for replicas (replica id ≥ 0), DESCRIBE on the topic for consumers.
using Samsa.Broker.Api;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class OffsetForLeaderEpochHandler(ReplicaManager replicas) : ApiHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>
{
    public override ApiKey ApiKey => ApiKey.OffsetForLeaderEpoch;
    public override VersionRange Versions => new(2, 4);

    protected override ValueTask<OffsetForLeaderEpochResponse?> HandleAsync(RequestContext context, OffsetForLeaderEpochRequest request, CancellationToken cancellationToken)
    {
        bool fromReplica = context.ApiVersion >= 3 && request.ReplicaId >= 0;
        bool clusterAction = fromReplica && context.Authorize(AclOperation.ClusterAction, ResourceType.Cluster, "kafka-cluster");
        var response = new OffsetForLeaderEpochResponse();
        foreach (var topic in request.Topics)
        {
            var topicResult = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = topic.Topic };
            response.Topics.Add(topicResult);
            bool authorized = fromReplica ? clusterAction : context.Authorize(AclOperation.Describe, ResourceType.Topic, topic.Topic);
            foreach (var p in topic.Partitions)
            {
                var result = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = p.Partition };
                topicResult.Partitions.Add(result);
                var partition = replicas.Get(topic.Topic, p.Partition);
                ErrorCode error;
                if (!authorized) error = fromReplica ? ErrorCode.ClusterAuthorizationFailed : ErrorCode.TopicAuthorizationFailed;
                else if (partition is null) error = ErrorCode.UnknownTopicOrPartition;
                else if (p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch != partition.LeaderEpoch)
                    error = p.CurrentLeaderEpoch < partition.LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch;
                else if (!partition.IsLeader) error = ErrorCode.NotLeaderOrFollower;
                else
                {
                    error = ErrorCode.None;
                    try
                    {
                        (result.LeaderEpoch, result.EndOffset) = partition.Log.EndOffsetForEpoch(p.LeaderEpoch);
                    }
                    catch (ObjectDisposedException)
                    {
                        error = ErrorCode.UnknownTopicOrPartition; // deleted meanwhile
                    }
                }
                result.ErrorCode = (short)error;
            }
        }
        return ValueTask.FromResult<OffsetForLeaderEpochResponse?>(response);
    }
}
