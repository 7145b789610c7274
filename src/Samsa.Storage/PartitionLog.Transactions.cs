namespace Samsa.Storage;

/// <summary>A producer with state in a partition (DescribeProducers): its epoch, last sequence and open transaction.</summary>
public readonly record struct ProducerSummary(long ProducerId, short Epoch, int LastSequence, long LastTimestamp, int CoordinatorEpoch,
    long CurrentTxnStartOffset);

public sealed partial class PartitionLog
{
    /// <summary>
    /// Aborted transactions overlapping [<paramref name="fetchOffset"/>, <paramref name="upperBoundOffset"/>) — marker at or
    /// after the fetch offset, data starting before the bound — for a read_committed Fetch (Kafka's
    /// collectAbortedTransactions). An entry lives in the segment of its marker, which is never before the segment
    /// holding the fetch offset, so the search starts there and stops once an entry shows every transaction that started
    /// below the bound has ended.
    /// </summary>
    public List<AbortedTxn> CollectAbortedTransactions(long fetchOffset, long upperBoundOffset)
    {
        var result = new List<AbortedTxn>();
        if (upperBoundOffset <= fetchOffset) return result;
        var segments = _segments;
        for (int i = FloorSegment(segments, fetchOffset); i < segments.Length; i++)
        {
            try
            {
                if (segments[i].TxnIndex.CollectAborted(fetchOffset, upperBoundOffset, result)) break;
            }
            catch (ObjectDisposedException)
            {
                // Deleted by retention meanwhile: its transactions are below the log start now.
            }
        }
        return result;
    }

    /// <summary>Every aborted transaction of the log, in marker order (tests, tools).</summary>
    public List<AbortedTxn> AllAbortedTransactions() => [.. _segments.SelectMany(s => s.TxnIndex.Entries)];

    /// <summary>
    /// True when <paramref name="producerId"/> has an open transaction in this partition under <paramref name="epoch"/>:
    /// its partition was verified in the transaction when the transaction's first batch arrived (KIP-890), so later batches
    /// need no check with the coordinator.
    /// </summary>
    public bool HasOpenTransaction(long producerId, short epoch)
    {
        lock (_appendLock) return _producers.Get(producerId) is { CurrentTxnFirstOffset: >= 0 } e && e.Epoch == epoch;
    }

    /// <summary>Producers with state in this partition (DescribeProducers).</summary>
    public List<ProducerSummary> ActiveProducers()
    {
        lock (_appendLock)
        {
            return _producers.Entries()
                .Select(e => new ProducerSummary(e.ProducerId, e.Epoch, e.LastSeq, e.LastTimestamp, e.CoordinatorEpoch, e.CurrentTxnFirstOffset))
                .ToList();
        }
    }
}
