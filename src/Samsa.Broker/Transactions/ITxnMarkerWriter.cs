using Samsa.Protocol;

namespace Samsa.Broker.Transactions;

/// <summary>The end of one transaction to be marked in its partitions (one entry of WriteTxnMarkers).</summary>
public sealed record TxnMarker(long ProducerId, short ProducerEpoch, bool Commit, int CoordinatorEpoch, IReadOnlyCollection<TxnPartition> Partitions);

/// <summary>
/// Writes COMMIT/ABORT markers to the partitions of a transaction, wherever their leaders are: the transaction
/// coordinator's only way to touch data partitions. Per partition the answer is NONE (written, or already fenced by a
/// newer epoch so nothing is left to do), or an error: UNKNOWN_TOPIC_OR_PARTITION (gone: nothing to mark), anything else
/// is retried by the coordinator.
/// </summary>
public interface ITxnMarkerWriter
{
    Task<IReadOnlyDictionary<TxnPartition, ErrorCode>> WriteAsync(TxnMarker marker, CancellationToken cancellationToken);
}
