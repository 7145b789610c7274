// ListOffsets (key 2), versions 1-8.
// Timestamps: -2 earliest (log start offset), -1 latest (high watermark; the last stable offset for
// read_committed, isolation_level 1, which also bounds timestamp lookups as in Kafka), -3 max timestamp (v7+, KIP-734), -4 earliest local (v8+, equal
// to earliest without tiered storage), t ≥ 0 the first offset whose batch has a timestamp ≥ t (batch granularity:
// the base offset of the first such batch; Kafka decompresses to find the exact record), or -1/-1 when none.
// CurrentLeaderEpoch (v4+) is checked like Fetch; only the leader answers (else NOT_LEADER_OR_FOLLOWER); a follower's
// own request (replica id ≥ 0) for latest gets the log end offset. Authorization: DESCRIBE on the topic.
using Samsa.Broker.Api;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ListOffsetsHandler(ReplicaManager replicas) : ApiHandler<ListOffsetsRequest, ListOffsetsResponse>
{
    public const long Latest = -1, Earliest = -2, MaxTimestamp = -3, EarliestLocal = -4;

    public override ApiKey ApiKey => ApiKey.ListOffsets;
    public override VersionRange Versions => new(1, 8);

    protected override ValueTask<ListOffsetsResponse?> HandleAsync(RequestContext context, ListOffsetsRequest request, CancellationToken cancellationToken)
    {
        var response = new ListOffsetsResponse();
        foreach (var topic in request.Topics)
        {
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = topic.Name };
            response.Topics.Add(topicResponse);
            bool authorized = context.Authorize(AclOperation.Describe, ResourceType.Topic, topic.Name);
            var duplicates = topic.Partitions.GroupBy(p => p.PartitionIndex).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
            foreach (var p in topic.Partitions)
            {
                var result = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex };
                topicResponse.Partitions.Add(result);
                var partition = replicas.Get(topic.Name, p.PartitionIndex);
                if (duplicates.Contains(p.PartitionIndex)) result.ErrorCode = (short)ErrorCode.InvalidRequest;
                else if (!authorized) result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                else if (partition is null) result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else if (p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch != partition.LeaderEpoch)
                    result.ErrorCode = (short)(p.CurrentLeaderEpoch < partition.LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch);
                else if (!partition.IsLeader) result.ErrorCode = (short)ErrorCode.NotLeaderOrFollower;
                else
                {
                    try
                    {
                        var (offset, timestamp) = Lookup(partition, p.Timestamp, request.ReplicaId >= 0, context.ApiVersion >= 2 && request.IsolationLevel == 1);
                        result.Offset = offset;
                        result.Timestamp = timestamp;
                        if (context.ApiVersion >= 4) result.LeaderEpoch = offset >= 0 ? partition.LeaderEpoch : -1;
                    }
                    catch (ObjectDisposedException)
                    {
                        result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition; // deleted meanwhile
                    }
                    catch (IOException)
                    {
                        result.ErrorCode = (short)ErrorCode.KafkaStorageError;
                    }
                }
            }
        }
        return ValueTask.FromResult<ListOffsetsResponse?>(response);
    }

    private static (long Offset, long Timestamp) Lookup(Partition partition, long timestamp, bool fromReplica, bool readCommitted)
    {
        var log = partition.Log;
        long fetchable = readCommitted ? Math.Min(log.LastStableOffset, partition.HighWatermark) : partition.HighWatermark;
        switch (timestamp)
        {
            case Earliest:
            case EarliestLocal:
                return (log.LogStartOffset, -1);
            case Latest:
                return (fromReplica ? log.LogEndOffset : fetchable, -1);
            case MaxTimestamp:
                var (offset, ts) = log.MaxTimestamp();
                return offset >= 0 ? (offset, ts) : (-1, -1);
            default:
                if (timestamp < 0) return (-1, -1);
                long? found = log.OffsetForTimestamp(timestamp);
                if (found is null || found >= fetchable) return (-1, -1);
                return (found.Value, timestamp);
        }
    }
}
