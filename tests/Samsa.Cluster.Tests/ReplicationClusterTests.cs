using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// Partition replication with real `samsa server` processes (Raft metadata quorum, controller elections, follower
/// fetching), driven by Confluent.Kafka: nodes are killed with SIGKILL under acks=all load and every acknowledged
/// record must be read back exactly once, in order; a returning node catches up and rejoins the ISR.
/// </summary>
public sealed class ReplicationClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(30);

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    private static async Task CreateTopicAsync(string bootstrap, string name, int minInsyncReplicas)
    {
        using var admin = ClusterFixture.Admin(bootstrap);
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = name, NumPartitions = 1, ReplicationFactor = 3,
                Configs = new Dictionary<string, string> { ["min.insync.replicas"] = minInsyncReplicas.ToString() },
            }], new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20), OperationTimeout = TimeSpan.FromSeconds(20) });
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
        {
        }
    }

    private static PartitionMetadata? PartitionOn(NodeProcess node, string topic) =>
        ClusterFixture.MetadataOf(node).Topics.FirstOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError)?.Partitions.FirstOrDefault();

    [Fact]
    public async Task Killing_the_leader_under_acks_all_load_loses_no_acknowledged_record_and_it_rejoins_the_isr_after_restart()
    {
        await using var cluster = new ClusterFixture();
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        await CreateTopicAsync(cluster.Bootstrap, "durable", minInsyncReplicas: 2);
        var initial = await ClusterFixture.WaitForAsync("a leader with a full ISR", Formation, () =>
            PartitionOn(cluster.Node(1), "durable") is { Leader: >= 0, InSyncReplicas.Length: 3 } p ? p : null);

        var acked = new ConcurrentQueue<int>();
        int failed = 0;
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, MessageTimeoutMs = 60_000,
            LingerMs = 2, TopicMetadataRefreshIntervalMs = 1000, RetryBackoffMs = 50, RetryBackoffMaxMs = 500,
        }).SetLogHandler((_, _) => { }).Build();
        int next = 0;
        void ProduceBatch(int count)
        {
            for (int i = 0; i < count; i++)
            {
                int value = next++;
                producer.Produce("durable", new Message<string, string> { Key = "k", Value = value.ToString() }, r =>
                {
                    if (r.Error.Code == ErrorCode.NoError) acked.Enqueue(value);
                    else Interlocked.Increment(ref failed);
                });
            }
            producer.Flush(TimeSpan.FromSeconds(60));
        }

        ProduceBatch(2000);
        Assert.Equal(2000, acked.Count);
        var victim = cluster.Node(initial.Leader);
        using var stop = new CancellationTokenSource();
        var load = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) ProduceBatch(200);
        });
        var watch = Stopwatch.StartNew();
        victim.Kill();
        var observer = cluster.Nodes.First(n => n.NodeId != victim.NodeId);
        var moved = await ClusterFixture.WaitForAsync("a new leader", Formation, () =>
            PartitionOn(observer, "durable") is { Leader: >= 0 } p && p.Leader != victim.NodeId ? p : null);
        int ackedAtFailover = acked.Count;
        await ClusterFixture.WaitForAsync("1000 more acknowledged records after the failover", TimeSpan.FromSeconds(60), () =>
            acked.Count >= ackedAtFailover + 1000 ? acked : null);
        await stop.CancelAsync();
        await load;
        Report($"leader {victim.NodeId} killed; node {moved.Leader} leads (ISR [{string.Join(",", moved.InSyncReplicas)}]) " +
               $"after {watch.ElapsedMilliseconds} ms; {acked.Count} acknowledged, {failed} failed");

        // Every acknowledged record is there exactly once, in production order.
        var consumed = new List<int>();
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
               {
                   BootstrapServers = cluster.Bootstrap, GroupId = "check-" + Guid.NewGuid().ToString("N"),
                   AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false, EnablePartitionEof = true,
               }).SetLogHandler((_, _) => { }).Build())
        {
            consumer.Assign(new TopicPartitionOffset("durable", 0, Offset.Beginning));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(500));
                if (r is null) continue;
                if (r.IsPartitionEOF)
                {
                    if (consumed.Count >= acked.Count) break;
                    continue;
                }
                consumed.Add(int.Parse(r.Message.Value));
            }
        }
        Assert.Equal(consumed.Count, consumed.Distinct().Count());
        Assert.True(consumed.Zip(consumed.Skip(1)).All(p => p.First < p.Second), "records are out of order");
        var missing = acked.Except(consumed).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged record(s) lost, e.g. {string.Join(",", missing.Take(5))}");

        // The old leader returns as a follower, truncates what was never committed, catches up and rejoins the ISR.
        victim.Start();
        var whole = await ClusterFixture.WaitForAsync($"node {victim.NodeId} back in the ISR", Formation, () =>
            PartitionOn(observer, "durable") is { InSyncReplicas.Length: 3 } p ? p : null);
        Report($"node {victim.NodeId} rejoined the ISR [{string.Join(",", whole.InSyncReplicas)}] {watch.ElapsedMilliseconds} ms after the kill");
        Assert.Contains(victim.NodeId, whole.InSyncReplicas);
        Assert.Contains("follower of", victim.ReadLog());
    }

    [Fact]
    public async Task With_the_isr_below_min_insync_replicas_acks_all_is_refused_and_resumes_when_the_replica_returns()
    {
        // min.insync.replicas=3 with RF=3, so one killed replica is enough: killing two of three combined nodes would
        // also take the metadata quorum down (then no ISR can change, and acks=all times out instead, as in Kafka).
        await using var cluster = new ClusterFixture();
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        await CreateTopicAsync(cluster.Bootstrap, "quorum", minInsyncReplicas: 3);
        var initial = await ClusterFixture.WaitForAsync("a leader with a full ISR", Formation, () =>
            PartitionOn(cluster.Node(1), "quorum") is { Leader: >= 0, InSyncReplicas.Length: 3 } p ? p : null);
        var leader = cluster.Node(initial.Leader);
        var victim = cluster.Nodes.First(n => n.NodeId != leader.NodeId);

        IProducer<string, string> Producer(int retries) => new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = leader.Bootstrap, Acks = Acks.All, MessageTimeoutMs = 20_000, MessageSendMaxRetries = retries,
        }).SetLogHandler((_, _) => { }).Build();
        using (var producer = Producer(3))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = "before" })).Status);

        victim.Kill();
        // The controller fences the killed broker and drops it from the ISR; acks=all is then refused before the append.
        await ClusterFixture.WaitForAsync("the ISR to shrink", Formation, () =>
            PartitionOn(leader, "quorum") is { InSyncReplicas.Length: 2 } p ? p : null);
        using (var producer = Producer(0))
        {
            var e = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = "refused" }));
            Assert.Equal(ErrorCode.NotEnoughReplicas, e.Error.Code);
        }

        victim.Start();
        await ClusterFixture.WaitForAsync("the ISR to be whole again", Formation, () =>
            PartitionOn(leader, "quorum") is { InSyncReplicas.Length: 3 } p ? p : null);
        using (var producer = Producer(3))
        {
            var delivered = await producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = "after" });
            Assert.Equal(1, delivered.Offset.Value); // nothing was appended by the refused produce
        }
    }
}
