namespace Samsa.Broker.Transactions;

/// <summary>Kafka's TransactionState, with its wire/log values (TransactionLogValue.TransactionStatus).</summary>
public enum TransactionState : sbyte
{
    Empty = 0,
    Ongoing = 1,
    PrepareCommit = 2,
    PrepareAbort = 3,
    CompleteCommit = 4,
    CompleteAbort = 5,
    Dead = 6,
    PrepareEpochFence = 7,
}

/// <summary>A partition of a transaction.</summary>
public readonly record struct TxnPartition(string Topic, int Partition) : IComparable<TxnPartition>
{
    public int CompareTo(TxnPartition other)
    {
        int c = string.CompareOrdinal(Topic, other.Topic);
        return c != 0 ? c : Partition.CompareTo(other.Partition);
    }
}

/// <summary>
/// One durable state of a transactional id (Kafka's TxnTransitMetadata / what TransactionLogValue stores): the producer id
/// and epoch it hands out, the transaction's state, partitions and timing. Immutable: a transition builds the next one,
/// persists it, and publishes it once durable.
/// </summary>
public sealed record TxnSnapshot(
    long ProducerId,
    long PreviousProducerId,
    short ProducerEpoch,
    int TimeoutMs,
    TransactionState State,
    IReadOnlySet<TxnPartition> Partitions,
    long StartTimeMs,
    long LastUpdateMs)
{
    public static readonly IReadOnlySet<TxnPartition> NoPartitions = new SortedSet<TxnPartition>();

    public bool IsPrepare => State is TransactionState.PrepareCommit or TransactionState.PrepareAbort;
    public bool IsComplete => State is TransactionState.CompleteCommit or TransactionState.CompleteAbort or TransactionState.Empty;

    public static string StateName(TransactionState state) => state.ToString();
}

/// <summary>
/// A transactional id's entry in a coordinator shard: the current durable snapshot plus, while a transition is being
/// persisted, the flag that makes other requests answer CONCURRENT_TRANSACTIONS (Kafka's pendingState).
/// Guarded by the shard lock.
/// </summary>
public sealed class TransactionMetadata(string transactionalId, TxnSnapshot current)
{
    public string TransactionalId { get; } = transactionalId;
    public TxnSnapshot Current { get; set; } = current;
    public bool PendingTransition { get; set; }
    /// <summary>True until the first snapshot of a newly created id is durable (removed again if that fails).</summary>
    public bool IsNew { get; set; }
}
