using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>
/// Transaction bookkeeping of a cleaning pass over a range of batches read in offset order (Kafka's
/// CleanedTransactionMetadata): data of aborted transactions is discarded (never in the offset map, never copied), and
/// the marker of a transaction may go once no batch of it remains. An ABORT marker whose transaction still had data in
/// this range is kept, with its ".txnindex" entry copied to the cleaned segment (the data goes now; the next pass sees no
/// data and lets the marker expire); a COMMIT marker is kept while data of its transaction was seen in the range.
/// A discardable marker still waits for its delete horizon (delete.retention.ms) so consumers that read the data see it.
/// </summary>
internal sealed class CleanerTransactions
{
    private readonly Queue<AbortedTxn> _aborted;
    private readonly Dictionary<long, (AbortedTxn Txn, bool DataSeen)> _ongoingAborted = [];
    private readonly HashSet<long> _ongoingCommitted = [];

    /// <param name="aborted">Aborted transactions overlapping the range (from the log's ".txnindex"), any order.</param>
    public CleanerTransactions(IEnumerable<AbortedTxn> aborted) =>
        _aborted = new Queue<AbortedTxn>(aborted.OrderBy(a => a.FirstOffset));

    /// <summary>Entries to write to the cleaned segment's ".txnindex", in marker order.</summary>
    public List<AbortedTxn> RetainedIndexEntries { get; } = [];

    /// <summary>True when a data batch belongs to an aborted transaction and must be discarded.</summary>
    public bool IsAbortedData(in RecordBatchHeader h)
    {
        ConsumeUpTo(h.LastOffset);
        if (h.IsControl || !h.IsTransactional || !h.HasProducerId) return false;
        if (_ongoingAborted.TryGetValue(h.ProducerId, out var a))
        {
            // An emptied header (kept for a live producer's sequence) has no records the marker must still hide.
            if (h.RecordCount > 0) _ongoingAborted[h.ProducerId] = (a.Txn, true);
            return true;
        }
        _ongoingCommitted.Add(h.ProducerId);
        return false;
    }

    /// <summary>For a control batch: true when it may be discarded once its delete horizon has passed.</summary>
    public bool CanDiscardControl(ReadOnlySpan<byte> batch)
    {
        var h = new RecordBatchHeader(batch);
        ConsumeUpTo(h.LastOffset);
        if (h.RecordCount == 0) return true; // emptied by an earlier pass
        switch ((ControlRecordType)BatchInfo.ReadControlType(batch))
        {
            case ControlRecordType.Abort:
                if (_ongoingAborted.Remove(h.ProducerId, out var a) && a.DataSeen)
                {
                    RetainedIndexEntries.Add(a.Txn);
                    return false;
                }
                return true;
            case ControlRecordType.Commit:
                return !_ongoingCommitted.Remove(h.ProducerId);
            default:
                return false;
        }
    }

    private void ConsumeUpTo(long offset)
    {
        while (_aborted.Count > 0 && _aborted.Peek().FirstOffset <= offset)
        {
            var txn = _aborted.Dequeue();
            _ongoingAborted[txn.ProducerId] = (txn, false);
        }
    }
}
