namespace Samsa.Broker.Groups;

/// <summary>
/// The log a coordinator shard persists to: one partition of an internal topic (__consumer_offsets,
/// __transaction_state). <see cref="Append"/> is called under the shard lock so records land in the order of the state
/// changes they describe; it assigns offsets at once and returns a task that completes when the records are durable
/// (fsynced under group commit), or faults.
/// </summary>
public interface ICoordinatorLog
{
    Task Append(IReadOnlyList<CoordinatorRecord> records, long timestampMs);

    /// <summary>
    /// Appends records as part of a producer's transaction (TxnOffsetCommit): a transactional batch with the producer's id
    /// and epoch, so the partition's producer state holds the transaction open until its marker arrives.
    /// </summary>
    Task AppendTransactional(IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch, long timestampMs) =>
        Task.FromException(new NotSupportedException("This coordinator log does not take transactional appends."));

    /// <summary>
    /// Every record from the log start, in offset order (the shard replays them when it loads). Records of transactional
    /// batches carry their <see cref="CoordinatorRecord.ProducerId"/>; an end-transaction marker comes as a record with
    /// <see cref="CoordinatorRecord.Marker"/> set (and an empty key).
    /// </summary>
    IEnumerable<CoordinatorRecord> ReadAll();
}
