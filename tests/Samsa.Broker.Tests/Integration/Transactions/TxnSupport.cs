using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>Brokers, producers and consumers for the transaction tests (real Confluent.Kafka clients over sockets).</summary>
internal static class TxnSupport
{
    /// <summary>Small internal topics so a node starts its coordinators quickly; fast abort checks where a test needs them.</summary>
    public static Task<TestBroker> StartBrokerAsync(IDictionary<string, string>? extra = null)
    {
        var overrides = new Dictionary<string, string>
        {
            ["transaction.state.log.num.partitions"] = "4",
            ["offsets.topic.num.partitions"] = "4",
        };
        if (extra is not null)
            foreach (var (k, v) in extra) overrides[k] = v;
        return TestBroker.StartAsync(overrides);
    }

    public static IProducer<string, string> TransactionalProducer(string bootstrap, string transactionalId, int transactionTimeoutMs = 30_000) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            TransactionalId = transactionalId,
            TransactionTimeoutMs = transactionTimeoutMs,
            SocketTimeoutMs = Math.Min(transactionTimeoutMs, 10_000),
            MessageTimeoutMs = transactionTimeoutMs,
            LingerMs = 1,
        }).Build();

    public static IConsumer<string, string> Consumer(string bootstrap, IsolationLevel isolation, string? groupId = null) =>
        new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = groupId ?? "reader-" + Guid.NewGuid().ToString("N"),
            IsolationLevel = isolation,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            FetchWaitMaxMs = 50,
        }).Build();

    /// <summary>
    /// Reads every partition of <paramref name="topic"/> from the beginning up to its end as the isolation level sees it
    /// (the high watermark, or the last stable offset for read_committed, both as ListOffsets answers them), and returns
    /// the records read plus the end per partition.
    /// </summary>
    public static (List<ConsumeResult<string, string>> Records, long[] Ends) ReadToEnd(string bootstrap, string topic, int partitions, IsolationLevel isolation)
    {
        using var consumer = Consumer(bootstrap, isolation);
        var ends = new long[partitions];
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        for (int p = 0; p < partitions; p++) ends[p] = consumer.QueryWatermarkOffsets(tps[p], TimeSpan.FromSeconds(10)).High.Value;
        consumer.Assign(tps.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var records = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is not null && !r.IsPartitionEOF) records.Add(r);
            if (r is null && tps.Select((tp, i) => (tp, i)).All(x => PositionOf(consumer, x.tp) >= ends[x.i])) break;
        }
        return (records, ends);
    }

    public static long PositionOf(IConsumer<string, string> consumer, TopicPartition tp)
    {
        var position = consumer.Position(tp);
        return position == Offset.Unset ? 0 : position.Value;
    }

    /// <summary>Waits for a condition (polled), failing with <paramref name="what"/> after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("Timed out waiting: " + what);
            await Task.Delay(50);
        }
    }
}
