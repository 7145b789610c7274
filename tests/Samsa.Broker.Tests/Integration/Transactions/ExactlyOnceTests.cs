using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>
/// Consume-transform-produce with SendOffsetsToTransaction, as Kafka Streams' exactly-once does: a transformer killed
/// mid-transaction and restarted with the same transactional.id leaves exactly one output per input.
/// </summary>
public sealed class ExactlyOnceTests
{
    private const string Input = "eos-in";
    private const string Output = "eos-out";
    private const string Group = "eos-transformer";
    private const string TransactionalId = "eos-transformer-0";
    private const int Records = 300;
    private const int BatchSize = 25;

    [Fact]
    public async Task Transformer_killed_mid_transaction_and_restarted_produces_each_result_exactly_once()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Input, 2);
        await RestartTests.CreateTopicAsync(bootstrap, Output, 3);
        await RestartTests.ProduceAsync(bootstrap, Input, Enumerable.Range(0, Records).Select(i => ($"key-{i}", $"{i}")));

        // First instance: commits a few batches, then dies inside the next transaction after producing part of it.
        int committedByFirst = RunTransformer(bootstrap, stopAfterBatches: 4, dieMidBatch: true);
        Assert.Equal(4 * BatchSize, committedByFirst);
        // What the zombie produced is in the log (read_uncommitted) but not committed.
        var raw = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadUncommitted).Records;
        Assert.True(raw.Count > committedByFirst, $"the killed transformer's open transaction left records: {raw.Count}");

        // Restart with the same transactional.id: InitTransactions fences the zombie and aborts its transaction; the group
        // resumes from the offsets committed with the last committed transaction.
        int processedBySecond = RunTransformer(bootstrap, stopAfterBatches: int.MaxValue, dieMidBatch: false);
        Assert.Equal(Records - committedByFirst, processedBySecond);
        Assert.Contains(broker.Logs.Lines, l => l.Contains($"Transactional id {TransactionalId}: a new producer fences epoch", StringComparison.Ordinal));

        var output = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadCommitted).Records.Select(r => r.Message.Value).ToList();
        Assert.Equal(Records, output.Count);
        Assert.Equal(Enumerable.Range(0, Records).Select(i => $"out-{i}").Order(), output.Order());
        var all = TxnSupport.ReadToEnd(bootstrap, Output, 3, IsolationLevel.ReadUncommitted).Records;
        Assert.True(all.Count > Records, "read_uncommitted also sees the aborted duplicates");
    }

    /// <summary>
    /// One transformer instance: reads the input as a group member (read_committed), writes "out-N" for each record and
    /// commits its input offsets in the same transaction, <see cref="BatchSize"/> records per transaction. With
    /// <paramref name="dieMidBatch"/> it stops without committing after half a batch, abandoning producer and consumer
    /// the way a killed process would (no abort, no offset commit, no leave). Returns the records it committed.
    /// </summary>
    private static int RunTransformer(string bootstrap, int stopAfterBatches, bool dieMidBatch)
    {
        var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = Group,
            IsolationLevel = IsolationLevel.ReadCommitted,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            SessionTimeoutMs = 6000,
            FetchWaitMaxMs = 50,
        }).Build();
        var producer = TxnSupport.TransactionalProducer(bootstrap, TransactionalId);
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        consumer.Subscribe(Input);
        int committed = 0, batches = 0;
        var batch = new List<ConsumeResult<string, string>>();
        try
        {
            while (batches < stopAfterBatches)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is not null) batch.Add(r);
                // Full batches, and the last partial one once every input record has been read.
                bool drained = r is null && consumer.Assignment.Count > 0 && consumer.Assignment.Sum(tp => TxnSupport.PositionOf(consumer, tp)) >= Records;
                if (batch.Count < BatchSize && !(drained && batch.Count > 0))
                {
                    if (drained) break;
                    continue;
                }
                producer.BeginTransaction();
                foreach (var record in batch)
                    producer.Produce(Output, new Message<string, string> { Key = record.Message.Key, Value = "out-" + record.Message.Value });
                producer.SendOffsetsToTransaction(
                    batch.GroupBy(b => b.TopicPartition).Select(g => new TopicPartitionOffset(g.Key, g.Max(b => b.Offset.Value) + 1)).ToList(),
                    consumer.ConsumerGroupMetadata, TimeSpan.FromSeconds(30));
                producer.CommitTransaction(TimeSpan.FromSeconds(30));
                committed += batch.Count;
                batch.Clear();
                batches++;
            }
            if (dieMidBatch)
            {
                // The fatal moment: half a batch produced in an open transaction, then the process is gone.
                while (batch.Count < BatchSize / 2) if (consumer.Consume(TimeSpan.FromSeconds(5)) is { } r) batch.Add(r);
                producer.BeginTransaction();
                foreach (var record in batch)
                    producer.Produce(Output, new Message<string, string> { Key = record.Message.Key, Value = "out-" + record.Message.Value });
                producer.Flush(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            if (dieMidBatch)
            {
                // Killed: nothing is closed cleanly; the handles are dropped with the transaction open.
                consumer.Dispose();
                producer.Dispose();
            }
            else
            {
                consumer.Close();
                consumer.Dispose();
                producer.Dispose();
            }
        }
        return committed;
    }
}
