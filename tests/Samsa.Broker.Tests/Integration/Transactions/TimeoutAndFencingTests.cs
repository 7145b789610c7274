using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>transaction.timeout.ms expiry, producer fencing and transaction.max.timeout.ms, with real clients.</summary>
public sealed class TimeoutAndFencingTests
{
    private const string Topic = "txn-timeout";

    [Fact]
    public async Task Transaction_left_open_is_aborted_after_its_timeout_and_its_producer_is_fenced()
    {
        await using var broker = await TxnSupport.StartBrokerAsync(new Dictionary<string, string>
        {
            ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = "200",
        });
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Topic, 1);
        var tp = new TopicPartition(Topic, 0);

        using var producer = TxnSupport.TransactionalProducer(bootstrap, "timeout-1", transactionTimeoutMs: 4000);
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        producer.BeginTransaction();
        for (int i = 0; i < 5; i++) producer.Produce(tp, new Message<string, string> { Key = "k", Value = $"left-open-{i}" });
        producer.Flush(TimeSpan.FromSeconds(10));

        using var reader = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted);
        Assert.Equal(0, reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        // The producer goes silent (killed); the coordinator aborts after 4 s: the ABORT marker moves the LSO past it.
        await TxnSupport.WaitUntilAsync(() => reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value == 6,
            "the timed-out transaction to be aborted (LSO past its marker)", timeoutMs: 30_000);
        Assert.Contains(broker.Logs.Lines, l => l.Contains("Aborting transaction of timeout-1", StringComparison.Ordinal));
        Assert.Empty(TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadCommitted).Records);
        Assert.Equal(5, TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadUncommitted).Records.Count);

        // The abort bumped the epoch: the old producer's next operation is fenced.
        var e = Assert.ThrowsAny<KafkaException>(() => producer.CommitTransaction(TimeSpan.FromSeconds(30)));
        Assert.True(e.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch || e.Error.IsFatal,
            $"expected a fencing error, got {e.Error.Code} {e.Error.Reason}");
    }

    [Fact]
    public async Task Second_producer_with_the_same_transactional_id_fences_the_first()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Topic, 1);
        var tp = new TopicPartition(Topic, 0);

        using var first = TxnSupport.TransactionalProducer(bootstrap, "fence-1");
        first.InitTransactions(TimeSpan.FromSeconds(30));
        first.BeginTransaction();
        first.Produce(tp, new Message<string, string> { Key = "k", Value = "zombie-0" });
        first.Flush(TimeSpan.FromSeconds(10));

        using var second = TxnSupport.TransactionalProducer(bootstrap, "fence-1");
        second.InitTransactions(TimeSpan.FromSeconds(30)); // aborts the first one's open transaction, bumps the epoch
        second.BeginTransaction();
        second.Produce(tp, new Message<string, string> { Key = "k", Value = "winner" });
        second.CommitTransaction(TimeSpan.FromSeconds(30));

        // The zombie's next operation fails with a fencing error (librdkafka raises it as fatal).
        var e = Assert.ThrowsAny<KafkaException>(() =>
        {
            first.Produce(tp, new Message<string, string> { Key = "k", Value = "zombie-1" });
            first.CommitTransaction(TimeSpan.FromSeconds(30));
        });
        Assert.True(e.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch || e.Error.IsFatal,
            $"expected a fencing error, got {e.Error.Code} {e.Error.Reason}");

        var committed = TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadCommitted).Records.Select(r => r.Message.Value).ToList();
        Assert.Equal(["winner"], committed);
    }

    [Fact]
    public async Task Transaction_timeout_above_the_maximum_is_rejected()
    {
        await using var broker = await TxnSupport.StartBrokerAsync(new Dictionary<string, string> { ["transaction.max.timeout.ms"] = "5000" });
        using var producer = TxnSupport.TransactionalProducer(broker.BootstrapServers, "too-long", transactionTimeoutMs: 60_000);
        var e = Assert.ThrowsAny<KafkaException>(() => producer.InitTransactions(TimeSpan.FromSeconds(30)));
        Assert.Equal(ErrorCode.InvalidTransactionTimeout, e.Error.Code);
    }
}
