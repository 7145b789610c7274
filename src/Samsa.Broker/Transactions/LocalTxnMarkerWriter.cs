using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups;
using Samsa.Broker.Replication;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Broker.Transactions;

/// <summary>
/// Appends end-transaction markers to partitions this node leads (the coordinator's local path, and the WriteTxnMarkers
/// handler's, Kafka's ReplicaManager.appendRecords with origin Coordinator): one control batch per partition with the
/// producer's id and epoch, appended as leader with acks=all (durable on every in-sync replica). A marker on
/// __consumer_offsets also completes the producer's pending transactional offsets in the group coordinator.
/// Partitions led elsewhere answer NOT_LEADER_OR_FOLLOWER: <see cref="TxnMarkerRouter"/> sends those to their leader.
/// </summary>
public sealed class LocalTxnMarkerWriter(ReplicaManager replicas, IMetadataLog metadata, GroupCoordinator groups, int nodeId,
    TimeProvider time, ILogger<LocalTxnMarkerWriter> logger) : ITxnMarkerWriter
{
    private static readonly TimeSpan MarkerTimeout = TimeSpan.FromSeconds(30);

    public async Task<IReadOnlyDictionary<TxnPartition, ErrorCode>> WriteAsync(TxnMarker marker, CancellationToken cancellationToken)
    {
        var pending = marker.Partitions.Select(p => (p, AppendAsync(marker, p))).ToList();
        var result = new Dictionary<TxnPartition, ErrorCode>();
        foreach (var (p, task) in pending) result[p] = await task.ConfigureAwait(false);
        return result;
    }

    /// <summary>Appends one marker to one partition this node leads.</summary>
    public async Task<ErrorCode> AppendAsync(TxnMarker marker, TxnPartition tp)
    {
        var topic = metadata.Image.Topic(tp.Topic);
        if (topic is null || tp.Partition < 0 || tp.Partition >= topic.Partitions.Length) return ErrorCode.UnknownTopicOrPartition;
        var partition = replicas.Get(tp.Topic, tp.Partition);
        if (partition is null || topic.Partitions[tp.Partition].Leader != nodeId) return ErrorCode.NotLeaderOrFollower;
        var type = marker.Commit ? ControlRecordType.Commit : ControlRecordType.Abort;
        var batch = new EndTransactionMarker(type, marker.CoordinatorEpoch)
            .BuildBatch(marker.ProducerId, marker.ProducerEpoch, time.GetUtcNow().ToUnixTimeMilliseconds());
        AppendResult appended;
        ErrorCode replication;
        try
        {
            // As Kafka: acks=all, so a marker counts once every in-sync replica has it (on a single node: once fsynced).
            (appended, replication) = await partition.AppendRecordsAsync(batch, -1, MarkerTimeout, CancellationToken.None, AppendOrigin.Coordinator)
                .ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return ErrorCode.UnknownTopicOrPartition;
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Writing a {Type} marker to {Topic}-{Partition} failed", type, tp.Topic, tp.Partition);
            return ErrorCode.KafkaStorageError;
        }
        if (appended.Error == AppendError.InvalidProducerEpoch)
        {
            // The producer already has a newer epoch here: a later coordinator decision superseded this one (Kafka drops
            // such markers too).
            logger.LogInformation("Skipped a stale {Type} marker for producer {ProducerId} epoch {Epoch} on {Topic}-{Partition}",
                type, marker.ProducerId, marker.ProducerEpoch, tp.Topic, tp.Partition);
            return ErrorCode.InvalidProducerEpoch;
        }
        // Not leader any more, not enough replicas, timed out waiting for them: the coordinator retries (a marker written
        // twice ends nothing the second time).
        if (replication != ErrorCode.None) return replication;
        if (!appended.IsSuccess) return ErrorCode.KafkaStorageError;
        if (tp.Topic == GroupCoordinator.OffsetsTopic) groups.OnTransactionMarker(tp.Partition, marker.ProducerId, marker.Commit);
        return ErrorCode.None;
    }
}
