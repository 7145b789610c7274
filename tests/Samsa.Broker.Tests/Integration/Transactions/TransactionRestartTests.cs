using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>Transaction coordinator and partition transaction state across a node restart (same data directory).</summary>
public sealed class TransactionRestartTests
{
    private const string Topic = "txn-restart";
    private const string Input = "txn-restart-in";

    [Fact]
    public async Task Committed_transaction_is_complete_after_an_immediate_restart()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Topic, 2);
        await RestartTests.CreateTopicAsync(bootstrap, Input, 1);
        await RestartTests.ProduceAsync(bootstrap, Input, [("k", "v")], partition: 0);
        using var source = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted, "restart-group");
        source.Subscribe(Input);
        while (source.Consume(TimeSpan.FromSeconds(10)) is null) { }

        using (var producer = TxnSupport.TransactionalProducer(bootstrap, "restart-commit"))
        {
            producer.InitTransactions(TimeSpan.FromSeconds(30));
            producer.BeginTransaction();
            for (int i = 0; i < 6; i++)
                producer.Produce(new TopicPartition(Topic, i % 2), new Message<string, string> { Key = "k", Value = $"c-{i}" });
            producer.Flush(TimeSpan.FromSeconds(10));
            producer.SendOffsetsToTransaction([new TopicPartitionOffset(Input, 0, 1)], source.ConsumerGroupMetadata, TimeSpan.FromSeconds(30));
            producer.CommitTransaction(TimeSpan.FromSeconds(30));
        }
        source.Close();
        await broker.RestartAsync();

        await TxnSupport.WaitUntilAsync(() => TxnSupport.ReadToEnd(bootstrap, Topic, 2, IsolationLevel.ReadCommitted).Records.Count == 6,
            "the committed transaction to be visible after the restart");
        using var check = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted, "restart-group");
        Assert.Equal(1, check.Committed([new TopicPartition(Input, 0)], TimeSpan.FromSeconds(20))[0].Offset.Value);

        // The coordinator's state survived: the same transactional id continues with a bumped epoch and commits again.
        using var again = TxnSupport.TransactionalProducer(bootstrap, "restart-commit");
        again.InitTransactions(TimeSpan.FromSeconds(30));
        again.BeginTransaction();
        again.Produce(new TopicPartition(Topic, 0), new Message<string, string> { Key = "k", Value = "after-restart" });
        again.CommitTransaction(TimeSpan.FromSeconds(30));
        await TxnSupport.WaitUntilAsync(() => TxnSupport.ReadToEnd(bootstrap, Topic, 2, IsolationLevel.ReadCommitted).Records.Count == 7,
            "the post-restart transaction to be visible");
    }

    [Fact]
    public async Task Open_transaction_survives_a_restart_holding_the_LSO_and_is_aborted_after_its_timeout()
    {
        await using var broker = await TxnSupport.StartBrokerAsync(new Dictionary<string, string>
        {
            ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = "200",
        });
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Topic, 1);
        await RestartTests.ProduceAsync(bootstrap, Topic, [("k", "before")], partition: 0);
        var tp = new TopicPartition(Topic, 0);

        // Long enough that the restart and the first check happen before it passes, even on a loaded machine.
        var producer = TxnSupport.TransactionalProducer(bootstrap, "restart-open", transactionTimeoutMs: 10_000);
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        producer.BeginTransaction();
        for (int i = 0; i < 4; i++) producer.Produce(tp, new Message<string, string> { Key = "k", Value = $"open-{i}" });
        producer.Flush(TimeSpan.FromSeconds(10));
        await broker.RestartAsync();

        // After the restart the partition still knows the open transaction (producer state snapshot): LSO = its first offset.
        using var reader = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted);
        Assert.Equal(1, reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        // The reloaded coordinator aborts it when its timeout passes.
        await TxnSupport.WaitUntilAsync(() => reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value == 6,
            "the open transaction to be aborted after the restart", timeoutMs: 40_000);
        Assert.Equal(["before"], TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadCommitted).Records.Select(r => r.Message.Value));
        Assert.Equal(5, TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadUncommitted).Records.Count);
        producer.Dispose();
    }
}
