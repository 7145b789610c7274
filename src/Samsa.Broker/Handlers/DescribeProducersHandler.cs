// DescribeProducers (key 61), version 0.
// The producers with state in each partition this node leads: id, epoch, last sequence, last timestamp, coordinator
// epoch and the first offset of the open transaction (-1 if none). NOT_LEADER_OR_FOLLOWER for partitions led
// elsewhere, UNKNOWN_TOPIC_OR_PARTITION for unknown ones. Authorization: READ on the topic.
using Samsa.Broker.Api;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeProducersHandler(ReplicaManager replicas, IMetadataLog metadata, int nodeId)
    : ApiHandler<DescribeProducersRequest, DescribeProducersResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeProducers;
    public override VersionRange Versions => new(0, 0);

    protected override ValueTask<DescribeProducersResponse?> HandleAsync(RequestContext context, DescribeProducersRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeProducersResponse();
        var image = metadata.Image;
        foreach (var topic in request.Topics)
        {
            var topicResponse = new DescribeProducersResponse.TopicResponse { Name = topic.Name };
            response.Topics.Add(topicResponse);
            bool authorized = context.Authorize(AclOperation.Read, ResourceType.Topic, topic.Name);
            var topicImage = image.Topic(topic.Name);
            foreach (int p in topic.PartitionIndexes)
            {
                var result = new DescribeProducersResponse.PartitionResponse { PartitionIndex = p };
                topicResponse.Partitions.Add(result);
                if (!authorized)
                {
                    result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                    continue;
                }
                if (topicImage is null || p < 0 || p >= topicImage.Partitions.Length)
                {
                    result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                    continue;
                }
                var partition = replicas.Get(topic.Name, p);
                if (partition is null || topicImage.Partitions[p].Leader != nodeId)
                {
                    result.ErrorCode = (short)ErrorCode.NotLeaderOrFollower;
                    continue;
                }
                try
                {
                    result.ActiveProducers = partition.Log.ActiveProducers().Select(s => new DescribeProducersResponse.ProducerState
                    {
                        ProducerId = s.ProducerId, ProducerEpoch = s.Epoch, LastSequence = s.LastSequence, LastTimestamp = s.LastTimestamp,
                        CoordinatorEpoch = s.CoordinatorEpoch, CurrentTxnStartOffset = s.CurrentTxnStartOffset,
                    }).ToList();
                }
                catch (ObjectDisposedException)
                {
                    result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                }
            }
        }
        return ValueTask.FromResult<DescribeProducersResponse?>(response);
    }
}
