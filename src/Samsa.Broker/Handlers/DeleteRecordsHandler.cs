// DeleteRecords (key 21), versions 0-2.
// Advances a partition's log start offset to the requested offset (-1 = the high watermark); whole segments below
// it are deleted. Offsets above the high watermark → OFFSET_OUT_OF_RANGE. Authorization: DELETE on the topic.
using Samsa.Broker.Api;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DeleteRecordsHandler(ReplicaManager replicas) : ApiHandler<DeleteRecordsRequest, DeleteRecordsResponse>
{
    public override ApiKey ApiKey => ApiKey.DeleteRecords;
    public override VersionRange Versions => new(0, 2);

    protected override ValueTask<DeleteRecordsResponse?> HandleAsync(RequestContext context, DeleteRecordsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteRecordsResponse();
        foreach (var topic in request.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = topic.Name };
            response.Topics.Add(topicResult);
            bool authorized = context.Authorize(AclOperation.Delete, ResourceType.Topic, topic.Name);
            foreach (var p in topic.Partitions)
            {
                var result = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = p.PartitionIndex, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                var partition = replicas.Get(topic.Name, p.PartitionIndex);
                if (!authorized) result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                else if (partition is null) result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else
                {
                    long hw = partition.HighWatermark;
                    long target = p.Offset == -1 ? hw : p.Offset;
                    if (target < 0 || target > hw) result.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                    else
                    {
                        try
                        {
                            result.LowWatermark = partition.Log.DeleteRecordsBefore(target);
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
        }
        return ValueTask.FromResult<DeleteRecordsResponse?>(response);
    }
}
