using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>
/// Transactions seen by read_committed and read_uncommitted consumers (Confluent.Kafka 2.16): a committed transaction
/// over three partitions plus a group's offsets appears atomically, an aborted one never does for read_committed, and
/// read_committed stops at the last stable offset while a transaction is open.
/// </summary>
public sealed class TransactionAtomicityTests
{
    private const string Output = "txn-out";
    private const string Input = "txn-in";

    [Fact]
    public async Task Committed_transaction_over_three_partitions_and_offsets_is_atomic_and_aborted_one_is_invisible()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Output, 3);
        await RestartTests.CreateTopicAsync(bootstrap, Input, 1);
        await RestartTests.ProduceAsync(bootstrap, Input, Enumerable.Range(0, 10).Select(i => ($"k{i}", $"in-{i}")), partition: 0);

        // A group member whose offsets go into the transaction.
        using var source = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted, "atomic-group");
        source.Subscribe(Input);
        var consumed = new List<ConsumeResult<string, string>>();
        while (consumed.Count < 10) if (source.Consume(TimeSpan.FromSeconds(10)) is { } r) consumed.Add(r);

        using var producer = TxnSupport.TransactionalProducer(bootstrap, "atomic-1");
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        producer.BeginTransaction();
        for (int p = 0; p < 3; p++)
            for (int i = 0; i < 4; i++)
                producer.Produce(new TopicPartition(Output, p), new Message<string, string> { Key = $"p{p}", Value = $"committed-{p}-{i}" });
        producer.Flush(TimeSpan.FromSeconds(10));
        producer.SendOffsetsToTransaction([new TopicPartitionOffset(Input, 0, 10)], source.ConsumerGroupMetadata, TimeSpan.FromSeconds(30));

        // Before the commit: read_uncommitted sees the 12 records; read_committed nothing, and no committed offset.
        Assert.Equal(12, TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadUncommitted).Records.Count);
        var (before, lso) = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadCommitted);
        Assert.Empty(before);
        Assert.Equal([0L, 0L, 0L], lso);
        // The group's offset is pending in the transaction: a plain OffsetFetch sees none; a read_committed consumer asks
        // with require_stable, gets UNSTABLE_OFFSET_COMMIT and keeps retrying (KIP-447) until its timeout.
        using (var plain = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadUncommitted, "atomic-group"))
            Assert.Equal(Offset.Unset, plain.Committed([new TopicPartition(Input, 0)], TimeSpan.FromSeconds(10))[0].Offset);
        var unstable = Assert.Throws<KafkaException>(() => source.Committed([new TopicPartition(Input, 0)], TimeSpan.FromSeconds(2)));
        Assert.Equal(ErrorCode.Local_TimedOut, unstable.Error.Code);

        producer.CommitTransaction(TimeSpan.FromSeconds(30));

        // After: all 12 records and the group's offset, together.
        await TxnSupport.WaitUntilAsync(() => TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadCommitted).Records.Count == 12,
            "the committed transaction to be visible to read_committed");
        var committed = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadCommitted).Records;
        Assert.Equal(Enumerable.Range(0, 3).SelectMany(p => Enumerable.Range(0, 4).Select(i => $"committed-{p}-{i}")).Order(),
            committed.Select(r => r.Message.Value).Order());
        Assert.All(committed, r => Assert.Equal($"p{r.Partition.Value}", r.Message.Key));
        Assert.Equal(10, source.Committed([new TopicPartition(Input, 0)], TimeSpan.FromSeconds(10))[0].Offset.Value);

        // An aborted transaction: invisible to read_committed, visible to read_uncommitted.
        producer.BeginTransaction();
        for (int p = 0; p < 3; p++)
            producer.Produce(new TopicPartition(Output, p), new Message<string, string> { Key = $"p{p}", Value = $"aborted-{p}" });
        producer.Flush(TimeSpan.FromSeconds(10));
        producer.SendOffsetsToTransaction([new TopicPartitionOffset(Input, 0, 5)], source.ConsumerGroupMetadata, TimeSpan.FromSeconds(30));
        producer.AbortTransaction(TimeSpan.FromSeconds(30));

        // One more committed record after the aborted ones proves read_committed read past them.
        producer.BeginTransaction();
        producer.Produce(new TopicPartition(Output, 1), new Message<string, string> { Key = "p1", Value = "after-abort" });
        producer.CommitTransaction(TimeSpan.FromSeconds(30));
        await TxnSupport.WaitUntilAsync(() => TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadCommitted).Records.Count == 13,
            "the record after the aborted transaction to be visible");
        var readCommitted = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadCommitted).Records.Select(r => r.Message.Value).ToList();
        Assert.DoesNotContain(readCommitted, v => v.StartsWith("aborted-", StringComparison.Ordinal));
        Assert.Contains("after-abort", readCommitted);
        var readUncommitted = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadUncommitted).Records.Select(r => r.Message.Value).ToList();
        Assert.Equal(3, readUncommitted.Count(v => v.StartsWith("aborted-", StringComparison.Ordinal)));
        Assert.Equal(16, readUncommitted.Count);
        // The aborted offset commit was dropped: the group still has offset 10.
        Assert.Equal(10, source.Committed([new TopicPartition(Input, 0)], TimeSpan.FromSeconds(10))[0].Offset.Value);
    }

    [Fact]
    public async Task Read_committed_consumer_stops_at_the_last_stable_offset_while_a_transaction_is_open()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Output, 1);
        await RestartTests.ProduceAsync(bootstrap, Output, Enumerable.Range(0, 5).Select(i => ("k", $"plain-{i}")), partition: 0);

        using var producer = TxnSupport.TransactionalProducer(bootstrap, "lso-1");
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        producer.BeginTransaction();
        for (int i = 0; i < 5; i++) producer.Produce(new TopicPartition(Output, 0), new Message<string, string> { Key = "k", Value = $"open-{i}" });
        producer.Flush(TimeSpan.FromSeconds(10));
        // A non-transactional record after the open transaction's records: above the LSO too.
        await RestartTests.ProduceAsync(bootstrap, Output, [("k", "plain-after")], partition: 0);

        var tp = new TopicPartition(Output, 0);
        using var committedReader = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted);
        using var uncommittedReader = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadUncommitted);
        Assert.Equal(5, committedReader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        Assert.Equal(11, uncommittedReader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);

        var (uncommitted, _) = TxnSupport.ReadToEnd(bootstrap, Output, 1, IsolationLevel.ReadUncommitted);
        Assert.Equal(11, uncommitted.Count);
        committedReader.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        var seen = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (seen.Count < 5 && DateTime.UtcNow < deadline)
            if (committedReader.Consume(TimeSpan.FromMilliseconds(200)) is { } r) seen.Add(r.Message.Value);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"plain-{i}"), seen);
        // Nothing more arrives while the transaction is open: the position stays at the LSO.
        Assert.Null(committedReader.Consume(TimeSpan.FromSeconds(1)));
        Assert.Equal(5, committedReader.Position(tp).Value);

        producer.CommitTransaction(TimeSpan.FromSeconds(30));
        var after = new List<string>();
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (after.Count < 6 && DateTime.UtcNow < deadline)
            if (committedReader.Consume(TimeSpan.FromMilliseconds(200)) is { } r) after.Add(r.Message.Value);
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"open-{i}"), "plain-after"], after);
        Assert.Equal(12, committedReader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
    }
}
