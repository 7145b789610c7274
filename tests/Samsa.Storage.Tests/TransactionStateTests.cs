using System.Buffers.Binary;
using System.Text;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>Open transactions, the last stable offset, the ".txnindex" and compaction of transactional data.</summary>
public sealed class TransactionStateTests : LogTestBase
{
    private static byte[] TxnBatch(long pid, short epoch, int seq, int count, int firstKey = 0, string value = "v")
    {
        using var b = new RecordBatchBuilder { ProducerId = pid, ProducerEpoch = epoch, BaseSequence = seq, IsTransactional = true };
        for (int i = 0; i < count; i++) b.Append(1_000, Compaction.Key(firstKey + i), Encoding.UTF8.GetBytes(value + (firstKey + i)));
        return b.Build();
    }

    private static AppendResult Marker(PartitionLog log, long pid, short epoch, bool commit) =>
        log.AppendAsLeader(new EndTransactionMarker(commit ? ControlRecordType.Commit : ControlRecordType.Abort, 0).BuildBatch(pid, epoch, 1_000),
            0, AppendOrigin.Coordinator);

    private static void Visible(PartitionLog log) => log.HighWatermark = log.LogEndOffset;

    [Fact]
    public void Open_transaction_holds_the_last_stable_offset_until_its_marker()
    {
        using var log = Open();
        Append(log, TestBatches.Build(3));
        var data = Append(log, TxnBatch(7, 0, 0, 4));
        Visible(log);
        Assert.Equal(3, data.BaseOffset);
        Assert.Equal(3, log.LastStableOffset);
        Assert.Equal(7, log.HighWatermark);

        var other = Append(log, TxnBatch(8, 0, 0, 2));
        Visible(log);
        Assert.Equal(3, log.LastStableOffset);
        var marker = Marker(log, 7, 0, commit: true);
        Assert.True(marker.IsSuccess);
        // The marker is not below the high watermark yet: the transaction still counts as unstable.
        Assert.Equal(3, log.LastStableOffset);
        Visible(log);
        Assert.Equal(other.BaseOffset, log.LastStableOffset);
        Marker(log, 8, 0, commit: false);
        Visible(log);
        Assert.Equal(log.LogEndOffset, log.LastStableOffset);
        Assert.Equal([new AbortedTxn(8, other.BaseOffset, log.LogEndOffset - 1, log.LogEndOffset)], log.AllAbortedTransactions());
    }

    [Fact]
    public void Txnindex_is_written_in_kafkas_format_and_read_back_after_reopen()
    {
        long firstA, markerA;
        using (var log = Open())
        {
            firstA = Append(log, TxnBatch(11, 2, 0, 3)).BaseOffset;
            long firstB = Append(log, TxnBatch(12, 0, 0, 1)).BaseOffset;
            markerA = Marker(log, 11, 2, commit: false).BaseOffset;
            Assert.Equal(AppendError.None, Marker(log, 12, 0, commit: true).Error);
            Assert.Equal([new AbortedTxn(11, firstA, markerA, firstB)], log.AllAbortedTransactions());
            log.Close();
        }
        var file = Directory.GetFiles(PartitionDir, "*.txnindex").Single();
        Assert.Equal("00000000000000000000.txnindex", Path.GetFileName(file));
        var bytes = File.ReadAllBytes(file);
        Assert.Equal(34, bytes.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(bytes));
        Assert.Equal(11, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(2)));
        Assert.Equal(firstA, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(10)));
        Assert.Equal(markerA, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(18)));
        Assert.Equal(3, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(26)));

        using var reopened = Open();
        Assert.Equal([new AbortedTxn(11, firstA, markerA, 3)], reopened.AllAbortedTransactions());
        Assert.Equal([new AbortedTxn(11, firstA, markerA, 3)], reopened.CollectAbortedTransactions(0, reopened.LogEndOffset));
    }

    [Fact]
    public void Last_stable_offset_survives_a_clean_restart_and_a_crash_with_an_open_transaction()
    {
        long first;
        using (var log = Open())
        {
            Append(log, TestBatches.Build(2));
            first = Append(log, TxnBatch(21, 0, 0, 2)).BaseOffset;
            Append(log, TestBatches.Build(2));
            log.Close();
        }
        {
            var log = Open();
            Visible(log);
            Assert.Equal(first, log.LastStableOffset);
            Assert.Equal(first, log.ActiveProducers().Single(p => p.ProducerId == 21).CurrentTxnStartOffset);
            // More data of the same transaction continues it; it is still open.
            Assert.True(Append(log, TxnBatch(21, 0, 2, 1)).IsSuccess);
            log.Flush();
            foreach (var s in log.Segments) s.Dispose(); // crash: no clean marker, no snapshot at the end
        }
        foreach (var snapshot in Directory.GetFiles(PartitionDir, "*.snapshot")) File.Delete(snapshot);
        using (var log = Open())
        {
            Visible(log);
            Assert.Equal(first, log.LastStableOffset);
            var abort = Marker(log, 21, 0, commit: false);
            Visible(log);
            Assert.Equal(log.LogEndOffset, log.LastStableOffset);
            Assert.Equal([new AbortedTxn(21, first, abort.BaseOffset, abort.BaseOffset + 1)], log.AllAbortedTransactions());
        }
    }

    [Fact]
    public void Aborted_ranges_are_listed_for_the_fetched_range_across_segments()
    {
        using var log = Open();
        long a = Append(log, TxnBatch(1, 0, 0, 5)).BaseOffset;    // 0-4, aborted at 8
        long b = Append(log, TxnBatch(2, 0, 0, 3)).BaseOffset;    // 5-7, committed at 9
        log.Roll();
        long aEnd = Marker(log, 1, 0, commit: false).BaseOffset;  // 8
        Marker(log, 2, 0, commit: true);                           // 9
        Append(log, TestBatches.Build(5));                         // 10-14
        log.Roll();
        long c = Append(log, TxnBatch(3, 0, 0, 2)).BaseOffset;    // 15-16, aborted at 17
        long cEnd = Marker(log, 3, 0, commit: false).BaseOffset;
        Visible(log);
        Assert.Equal((0L, 5L, 8L, 15L, 17L), (a, b, aEnd, c, cEnd));

        static List<long> Pids(List<AbortedTxn> txns) => txns.Select(t => t.ProducerId).Order().ToList();
        Assert.Equal([1, 3], Pids(log.CollectAbortedTransactions(0, log.LogEndOffset)));
        Assert.Equal([1], Pids(log.CollectAbortedTransactions(0, 5)));
        Assert.Equal([1], Pids(log.CollectAbortedTransactions(4, 8)));
        Assert.Empty(log.CollectAbortedTransactions(9, 15));
        Assert.Equal([3], Pids(log.CollectAbortedTransactions(9, 16)));
        Assert.Equal([3], Pids(log.CollectAbortedTransactions(16, 18)));
        Assert.Empty(log.CollectAbortedTransactions(18, 20));
        // The entry of the first transaction lives in the segment of its marker.
        Assert.Empty(log.Segments[0].TxnIndex.Entries);
        Assert.Single(log.Segments[1].TxnIndex.Entries);
    }

    [Fact]
    public void Txnindex_is_rebuilt_by_replay_when_lost_in_a_crash()
    {
        {
            var log = Open();
            Append(log, TxnBatch(5, 0, 0, 2));
            Marker(log, 5, 0, commit: false);
            Append(log, TxnBatch(5, 0, 2, 2));
            Marker(log, 5, 0, commit: false);
            log.Flush();
            foreach (var s in log.Segments) s.Dispose();
        }
        foreach (var f in Directory.GetFiles(PartitionDir).Where(f => f.EndsWith(".txnindex", StringComparison.Ordinal) || f.EndsWith(".snapshot", StringComparison.Ordinal)))
            File.Delete(f);
        using var reopened = Open();
        Assert.Equal([new AbortedTxn(5, 0, 2, 3), new AbortedTxn(5, 3, 5, 6)], reopened.AllAbortedTransactions());
    }

    [Fact]
    public void Producer_rules_for_transactions_are_enforced()
    {
        using var log = Open();
        Assert.True(Append(log, TxnBatch(9, 1, 0, 1)).IsSuccess);
        // Non-transactional data from a producer whose transaction is open.
        Assert.Equal(AppendError.InvalidTxnState, Append(log, TestBatches.Build(1, producerId: 9, producerEpoch: 1, baseSequence: 1)).Error);
        // A client may not write markers.
        var clientMarker = new EndTransactionMarker(ControlRecordType.Commit, 0).BuildBatch(9, 1, 1_000);
        Assert.Equal(AppendError.InvalidTxnState, log.AppendAsLeader(clientMarker, 0, AppendOrigin.Client).Error);
        // A marker with an older epoch than the producer's is fenced.
        Assert.Equal(AppendError.InvalidProducerEpoch, Marker(log, 9, 0, commit: true).Error);
        Assert.True(Marker(log, 9, 1, commit: true).IsSuccess);
        // A fencing marker with a bumped epoch (coordinator abort after a timeout) fences the zombie's next write.
        Assert.True(Append(log, TxnBatch(9, 1, 1, 1)).IsSuccess);
        Assert.True(Marker(log, 9, 2, commit: false).IsSuccess);
        Assert.Equal(AppendError.InvalidProducerEpoch, Append(log, TxnBatch(9, 1, 2, 1)).Error);
    }

    [Fact]
    public void Compaction_removes_aborted_records_keeps_markers_until_the_horizon_and_stops_at_the_last_stable_offset()
    {
        var config = Compaction.Config(deleteRetentionMs: 1_000, minDirtyRatio: 0.01);
        using var log = Open(config);
        Append(log, Compaction.Batch([(1, "base-1"), (2, "base-2")]));                  // 0-1
        Append(log, TxnBatch(40, 0, 0, 2, firstKey: 1, value: "aborted-"));            // 2-3
        Marker(log, 40, 0, commit: false);                                             // 4
        Append(log, TxnBatch(41, 0, 0, 1, firstKey: 3, value: "committed-"));          // 5
        Marker(log, 41, 0, commit: true);                                              // 6
        log.Roll();
        long open = Append(log, TxnBatch(42, 0, 0, 1, firstKey: 4, value: "open-")).BaseOffset; // 7, still open
        log.Roll();
        Append(log, Compaction.Batch([(5, "later")]));                                 // 8
        log.Roll();
        Visible(log);
        Assert.Equal(open, log.LastStableOffset);

        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time);
        Assert.NotNull(cleaner.CleanOnce());
        // Cleaned up to the last stable offset only: the open transaction's segment and after are untouched.
        Assert.Equal(open, log.FirstDirtyOffset);
        var values = Compaction.ReadAll(log).ToDictionary(r => r.Offset, r => r.Value);
        Assert.Equal("base-1", values[0]);
        Assert.Equal("base-2", values[1]);
        Assert.False(values.ContainsKey(2));
        Assert.False(values.ContainsKey(3));
        Assert.Equal("committed-3", values[5]);
        Assert.Equal("open-4", values[7]);
        // The abort marker and its index entry stay: this pass removed its data.
        var controls = ControlOffsets(log);
        Assert.Equal([4L, 6L], controls);
        Assert.Equal([40L], log.AllAbortedTransactions().Select(t => t.ProducerId));

        // Next pass: no data left, so both markers get their delete horizon and go once it passes.
        Marker(log, 42, 0, commit: true);
        log.Roll();
        Visible(log);
        Append(log, Compaction.Batch([(1, "newer-1")]));
        log.Roll();
        Visible(log);
        Assert.NotNull(cleaner.CleanOnce());
        Assert.Contains(4L, ControlOffsets(log));
        Time.Advance(TimeSpan.FromMilliseconds(config.DeleteRetentionMs + 1));
        Append(log, Compaction.Batch([(2, "newer-2")]));
        log.Roll();
        Visible(log);
        Assert.NotNull(cleaner.CleanOnce());
        Assert.DoesNotContain(4L, ControlOffsets(log));
        // The commit marker stays while its transaction's data does (Kafka's rule).
        Assert.Contains(6L, ControlOffsets(log));
        Assert.Empty(log.AllAbortedTransactions());
        var final = Compaction.ReadAll(log).Select(r => r.Value).ToList();
        Assert.DoesNotContain(final, v => v is not null && v.StartsWith("aborted-", StringComparison.Ordinal));
        Assert.Contains("committed-3", final);
        Assert.Contains("open-4", final);
    }

    private static List<long> ControlOffsets(PartitionLog log)
    {
        var result = new List<long>();
        long offset = log.LogStartOffset;
        while (offset < log.HighWatermark)
        {
            var read = log.Read(offset, 1 << 20, log.HighWatermark, minOneBatch: true);
            if (read.Records.IsEmpty) break;
            var reader = new RecordBatchReader(read.Records);
            while (reader.TryReadNext(out var batch))
            {
                if (batch.IsControl && batch.RecordCount > 0) result.Add(batch.BaseOffset);
                offset = batch.LastOffset + 1;
            }
        }
        return result;
    }
}
