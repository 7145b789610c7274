using Microsoft.Extensions.Logging;
using Samsa.Broker.Network.InterBroker;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Transactions;

/// <summary>
/// The coordinator's marker writer on a cluster (Kafka's TransactionMarkerChannelManager, without its queueing): the
/// partitions of a transaction are grouped by their leader in the current metadata image; those this node leads go to
/// the local writer (<see cref="LocalTxnMarkerWriter"/>), the others as one WriteTxnMarkers request per leader over the inter-broker client.
/// An unreachable leader, a timeout or a peer error answers its partitions with a retriable error (the coordinator
/// retries with backoff, reading leadership again), never an exception.
/// </summary>
internal sealed class TxnMarkerRouter(ITxnMarkerWriter local, Func<MetadataImage> image, BrokerChannelPool interBroker, int nodeId,
    ILogger<TxnMarkerRouter> logger) : ITxnMarkerWriter
{
    public async Task<IReadOnlyDictionary<TxnPartition, ErrorCode>> WriteAsync(TxnMarker marker, CancellationToken cancellationToken)
    {
        var current = image();
        var byLeader = marker.Partitions.GroupBy(p =>
        {
            var topic = current.Topic(p.Topic);
            return topic is null || p.Partition < 0 || p.Partition >= topic.Partitions.Length ? nodeId : topic.Partitions[p.Partition].Leader;
        }).ToList();
        var tasks = byLeader.Select(g => g.Key == nodeId || g.Key < 0
            ? local.WriteAsync(marker with { Partitions = [.. g] }, cancellationToken)
            : SendAsync(g.Key, marker with { Partitions = [.. g] }, cancellationToken)).ToList();
        var result = new Dictionary<TxnPartition, ErrorCode>();
        foreach (var task in tasks)
            foreach (var (p, e) in await task.ConfigureAwait(false)) result[p] = e;
        return result;
    }

    private async Task<IReadOnlyDictionary<TxnPartition, ErrorCode>> SendAsync(int leader, TxnMarker marker, CancellationToken cancellationToken)
    {
        var request = new WriteTxnMarkersRequest
        {
            Markers =
            [
                new WriteTxnMarkersRequest.WritableTxnMarker
                {
                    ProducerId = marker.ProducerId,
                    ProducerEpoch = marker.ProducerEpoch,
                    TransactionResult = marker.Commit,
                    CoordinatorEpoch = marker.CoordinatorEpoch,
                    Topics = marker.Partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
                        .Select(g => new WriteTxnMarkersRequest.WritableTxnMarkerTopic { Name = g.Key, PartitionIndexes = g.Select(p => p.Partition).ToList() })
                        .ToList(),
                },
            ],
        };
        try
        {
            var response = await interBroker.Get(leader).SendAsync<WriteTxnMarkersRequest, WriteTxnMarkersResponse>(
                request, cancellationToken: cancellationToken).ConfigureAwait(false);
            var result = marker.Partitions.ToDictionary(p => p, _ => ErrorCode.UnknownServerError);
            foreach (var m in response.Markers.Where(m => m.ProducerId == marker.ProducerId))
                foreach (var t in m.Topics)
                    foreach (var p in t.Partitions)
                        result[new TxnPartition(t.Name, p.PartitionIndex)] = (ErrorCode)p.ErrorCode;
            return result;
        }
        catch (Exception e) when (e is IOException or TimeoutException or Samsa.Protocol.Serialization.ProtocolException or ObjectDisposedException)
        {
            logger.LogInformation("Sending transaction markers to node {Node} failed: {Reason}", leader, e.Message);
            return marker.Partitions.ToDictionary(p => p, _ => ErrorCode.NetworkException);
        }
    }
}
