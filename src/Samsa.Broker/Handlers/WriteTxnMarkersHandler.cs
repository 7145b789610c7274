// WriteTxnMarkers (key 27), versions 0-1.
// Inter-broker: a transaction coordinator asks this node to append COMMIT/ABORT markers to partitions it leads (the
// same path the local coordinator uses, LocalTxnMarkerWriter): per partition NONE, NOT_LEADER_OR_FOLLOWER,
// UNKNOWN_TOPIC_OR_PARTITION, or INVALID_PRODUCER_EPOCH for a marker older than the producer's epoch in the partition.
// Authorization: CLUSTER_ACTION on the cluster (CLUSTER_AUTHORIZATION_FAILED for every partition otherwise).
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class WriteTxnMarkersHandler(LocalTxnMarkerWriter writer) : ApiHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponse>
{
    public override ApiKey ApiKey => ApiKey.WriteTxnMarkers;
    public override VersionRange Versions => new(0, 1);

    protected override async ValueTask<WriteTxnMarkersResponse?> HandleAsync(RequestContext context, WriteTxnMarkersRequest request, CancellationToken cancellationToken)
    {
        bool authorized = context.Authorize(AclOperation.ClusterAction, ResourceType.Cluster, "kafka-cluster");
        var response = new WriteTxnMarkersResponse();
        foreach (var m in request.Markers)
        {
            var result = new WriteTxnMarkersResponse.WritableTxnMarkerResult { ProducerId = m.ProducerId };
            response.Markers.Add(result);
            var marker = new TxnMarker(m.ProducerId, m.ProducerEpoch, m.TransactionResult, m.CoordinatorEpoch, []);
            foreach (var topic in m.Topics)
            {
                var topicResult = new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult { Name = topic.Name };
                result.Topics.Add(topicResult);
                foreach (int p in topic.PartitionIndexes)
                {
                    var error = authorized
                        ? await writer.AppendAsync(marker, new TxnPartition(topic.Name, p)).ConfigureAwait(false)
                        : ErrorCode.ClusterAuthorizationFailed;
                    topicResult.Partitions.Add(new() { PartitionIndex = p, ErrorCode = (short)error });
                }
            }
        }
        return response;
    }
}
