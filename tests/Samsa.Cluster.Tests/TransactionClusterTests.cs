using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// Transactions on a three-node cluster (real `samsa server` processes): the coordinator of the transactional id lives
/// on the leader of its __transaction_state partition, the data partitions are led by all three nodes, so markers travel
/// as WriteTxnMarkers between nodes and produces are verified against the remote coordinator (KIP-890).
/// </summary>
public sealed class TransactionClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Commit_and_abort_over_partitions_led_by_three_nodes_are_seen_right_by_read_committed()
    {
        await using var cluster = new ClusterFixture(extraConfig: new Dictionary<string, string>
        {
            ["transaction.state.log.num.partitions"] = "3",
            ["transaction.state.log.replication.factor"] = "3",
            ["offsets.topic.num.partitions"] = "3",
            ["offsets.topic.replication.factor"] = "3",
        });
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        const string topic = "cluster-txn";
        using var admin = ClusterFixture.Admin(cluster.Bootstrap);
        // Preferred leaders 1, 2, 3; a node still fenced at creation (a loaded machine) gets its leadership back by a
        // preferred election below.
        await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = topic,
                NumPartitions = 3,
                ReplicationFactor = -1,
                ReplicasAssignments = new Dictionary<int, List<int>> { [0] = [1, 2, 3], [1] = [2, 3, 1], [2] = [3, 1, 2] },
            }],
            new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20), OperationTimeout = TimeSpan.FromSeconds(20) });
        var meta = await ClusterFixture.WaitForAsync("the topic's leaders on three nodes", Formation, async () =>
        {
            var t = ClusterFixture.MetadataOf(cluster.Node(1)).Topics.FirstOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError);
            if (t is null || t.Partitions.Count != 3 || t.Partitions.Any(p => p.Leader <= 0)) return null;
            if (t.Partitions.Select(p => p.Leader).Distinct().Count() == 3) return t;
            await admin.ElectLeadersAsync(ElectionType.Preferred, [.. Enumerable.Range(0, 3).Select(p => new TopicPartition(topic, p))]);
            return null;
        });
        output.WriteLine("leaders: " + string.Join(", ", meta.Partitions.Select(p => $"{p.PartitionId}->{p.Leader}")));
        Assert.Equal(3, meta.Partitions.Select(p => p.Leader).Distinct().Count());

        try
        {
            using var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = cluster.Bootstrap, TransactionalId = "cluster-tx", TransactionTimeoutMs = 30_000, LingerMs = 1,
            }).Build();
            producer.InitTransactions(TimeSpan.FromSeconds(60));
            producer.BeginTransaction();
            for (int p = 0; p < 3; p++)
                for (int i = 0; i < 3; i++)
                    producer.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = "k", Value = $"committed-{p}-{i}" });
            producer.CommitTransaction(TimeSpan.FromSeconds(60));
            producer.BeginTransaction();
            for (int p = 0; p < 3; p++)
                producer.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = "k", Value = $"aborted-{p}" });
            producer.Flush(TimeSpan.FromSeconds(30));
            producer.AbortTransaction(TimeSpan.FromSeconds(60));
            producer.BeginTransaction();
            producer.Produce(new TopicPartition(topic, 0), new Message<string, string> { Key = "k", Value = "last" });
            producer.CommitTransaction(TimeSpan.FromSeconds(60));

            var committed = await ClusterFixture.WaitForAsync("every committed record, and only those, for read_committed", Formation, () =>
            {
                var values = ReadAll(cluster.Bootstrap, topic, IsolationLevel.ReadCommitted);
                return values.Count == 10 ? values : null;
            });
            Assert.DoesNotContain(committed, v => v.StartsWith("aborted-", StringComparison.Ordinal));
            Assert.Contains("last", committed);
            var uncommitted = ReadAll(cluster.Bootstrap, topic, IsolationLevel.ReadUncommitted);
            Assert.Equal(13, uncommitted.Count);
        }
        catch
        {
            output.WriteLine(cluster.Logs(60));
            throw;
        }
    }

    [Fact]
    public async Task Killing_the_coordinator_moves_it_and_the_new_one_aborts_the_open_transaction_for_a_new_producer()
    {
        await using var cluster = new ClusterFixture(extraConfig: new Dictionary<string, string>
        {
            ["transaction.state.log.num.partitions"] = "3",
            ["transaction.state.log.replication.factor"] = "3",
            ["offsets.topic.num.partitions"] = "3",
            ["offsets.topic.replication.factor"] = "3",
        });
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        const string topic = "failover-txn";
        using (var admin = ClusterFixture.Admin(cluster.Bootstrap))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 3 }],
                new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20), OperationTimeout = TimeSpan.FromSeconds(20) });
        try
        {
            var zombie = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = cluster.Bootstrap, TransactionalId = "failover-tx", TransactionTimeoutMs = 60_000, LingerMs = 1,
            }).Build();
            zombie.InitTransactions(TimeSpan.FromSeconds(60));
            zombie.BeginTransaction();
            for (int p = 0; p < 3; p++)
                zombie.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = "k", Value = $"open-{p}" });
            zombie.Flush(TimeSpan.FromSeconds(30));

            // The coordinator: leader of the transactional id's __transaction_state partition (Kafka's hash).
            int index = Samsa.Broker.Groups.CoordinatorPartitioner.PartitionFor("failover-tx", 3);
            int coordinator = ClusterFixture.MetadataOf(cluster.Node(1)).Topics.First(t => t.Topic == "__transaction_state").Partitions
                .First(p => p.PartitionId == index).Leader;
            output.WriteLine($"coordinator: node {coordinator}");
            cluster.Node(coordinator).Kill();
            var survivor = cluster.Nodes.First(n => n.NodeId != coordinator);
            await ClusterFixture.WaitForAsync("a new coordinator", Formation, () =>
            {
                var leader = ClusterFixture.MetadataOf(survivor).Topics.FirstOrDefault(t => t.Topic == "__transaction_state")?.Partitions
                    .First(p => p.PartitionId == index).Leader;
                return leader is > 0 && leader != coordinator ? (object)leader : null;
            });

            string bootstrap = string.Join(",", cluster.Nodes.Where(n => n.NodeId != coordinator).Select(n => n.Bootstrap));
            using var successor = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = bootstrap, TransactionalId = "failover-tx", TransactionTimeoutMs = 60_000, LingerMs = 1,
            }).Build();
            successor.InitTransactions(TimeSpan.FromSeconds(60)); // the new coordinator aborts the zombie's transaction
            successor.BeginTransaction();
            for (int p = 0; p < 3; p++)
                successor.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = "k", Value = $"successor-{p}" });
            successor.CommitTransaction(TimeSpan.FromSeconds(60));

            var committed = await ClusterFixture.WaitForAsync("the successor's records for read_committed", Formation, () =>
            {
                var values = ReadAll(bootstrap, topic, IsolationLevel.ReadCommitted);
                return values.Count == 3 ? values : null;
            });
            Assert.Equal(["successor-0", "successor-1", "successor-2"], committed.Order());
            Assert.Equal(6, ReadAll(bootstrap, topic, IsolationLevel.ReadUncommitted).Count);
            zombie.Dispose();
        }
        catch
        {
            output.WriteLine(cluster.Logs(80));
            throw;
        }
    }

    private static List<string> ReadAll(string bootstrap, string topic, IsolationLevel isolation)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "reader-" + Guid.NewGuid().ToString("N"), IsolationLevel = isolation,
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false, FetchWaitMaxMs = 50,
        }).Build();
        var tps = Enumerable.Range(0, 3).Select(p => new TopicPartition(topic, p)).ToList();
        var ends = tps.Select(tp => consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value).ToList();
        consumer.Assign(tps.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is not null) values.Add(r.Message.Value);
            else if (tps.Select((tp, i) => consumer.Position(tp) is { } pos && (pos == Offset.Unset ? 0 : pos.Value) >= ends[i]).All(x => x)) break;
        }
        return values;
    }
}
