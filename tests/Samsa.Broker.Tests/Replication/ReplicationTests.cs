using Confluent.Kafka;
using Samsa.Metadata;

namespace Samsa.Broker.Tests.Replication;

/// <summary>
/// Partition replication between three real in-process nodes (see <see cref="InProcessCluster"/>: one shared metadata
/// log stands in for the Raft quorum; leader elections are done by the test as the controller would), driven by
/// Confluent.Kafka. RF=3, min.insync.replicas=2 unless stated.
/// </summary>
public sealed class ReplicationTests
{
    private static readonly Dictionary<string, string> FastLag = new() { ["replica.lag.time.max.ms"] = "1500" };

    [Fact]
    public async Task Acks_all_records_are_on_every_isr_member_disk_at_the_same_offsets_when_acknowledged()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.CreateTopicAsync("durable", [1, 2, 3], minInsyncReplicas: 2);
        using var producer = cluster.Producer(Acks.All);

        for (int i = 0; i < 30; i++)
        {
            var delivered = await producer.ProduceAsync("durable", new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
            long offset = delivered.Offset.Value;
            // At the moment of the acknowledgement: every ISR member has fsynced the batch, byte for byte the leader's.
            var isr = cluster.PartitionImage("durable").Isr;
            Assert.True(isr.Length >= 2, $"ISR [{string.Join(",", isr)}]");
            var leaderBatch = InProcessCluster.Batches(cluster.PartitionOn(1, "durable")!).Single(b => b.Offset == offset);
            foreach (int replica in isr)
            {
                var partition = cluster.PartitionOn(replica, "durable")!;
                Assert.True(partition.Log.FlushedOffset > offset, $"replica {replica} flushed {partition.Log.FlushedOffset}, acknowledged {offset}");
                var batch = InProcessCluster.Batches(partition).Single(b => b.Offset == offset);
                Assert.Equal(leaderBatch.Bytes, batch.Bytes);
                Assert.Equal(0, batch.Epoch);
            }
        }
        Assert.Equal([1, 2, 3], cluster.PartitionImage("durable").Isr);
        // Followers learn the high watermark from their fetches.
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionOn(3, "durable")!.HighWatermark == 30, "follower high watermark reaches 30");
    }

    [Fact]
    public async Task A_follower_down_for_a_while_is_removed_from_the_isr_catches_up_and_rejoins()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, FastLag);
        await cluster.CreateTopicAsync("lagging", [1, 2, 3], minInsyncReplicas: 2);
        using var producer = cluster.Producer(Acks.All);
        for (int i = 0; i < 10; i++) await producer.ProduceAsync("lagging", new Message<string, string> { Key = "k", Value = $"before-{i}" });

        await cluster.StopNodeAsync(3);
        // While 3 is still in the ISR an acks=all produce waits; once the leader removes it (after replica.lag.time.max.ms)
        // the ISR {1,2} still meets min.insync.replicas and the produce is acknowledged.
        for (int i = 0; i < 50; i++) await producer.ProduceAsync("lagging", new Message<string, string> { Key = "k", Value = $"during-{i}" });
        Assert.Equal([1, 2], cluster.PartitionImage("lagging").Isr);
        Assert.Contains(cluster.Nodes[1].Logs.Lines, l => l.Contains("shrinking ISR [1,2,3] -> [1,2]"));

        await cluster.StartNodeAsync(3);
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionImage("lagging").Isr.Contains(3), "replica 3 rejoins the ISR");
        var leader = InProcessCluster.Batches(cluster.PartitionOn(1, "lagging")!);
        var returned = InProcessCluster.Batches(cluster.PartitionOn(3, "lagging")!);
        Assert.Equal(60, cluster.PartitionOn(3, "lagging")!.Log.LogEndOffset);
        Assert.Equal(leader.Select(b => b.Bytes), returned.Select(b => b.Bytes));
        Assert.Contains(cluster.Nodes[1].Logs.Lines, l => l.Contains("expanding ISR [1,2] -> [1,2,3]"));

        // And it counts again: with 2 stopped, 1 and 3 still acknowledge acks=all.
        await cluster.StopNodeAsync(2);
        var after = await producer.ProduceAsync("lagging", new Message<string, string> { Key = "k", Value = "after" });
        Assert.Equal(60, after.Offset.Value);
        Assert.True(cluster.PartitionOn(3, "lagging")!.Log.FlushedOffset > 60);
    }

    [Fact]
    public async Task A_replica_with_a_divergent_unacknowledged_tail_truncates_it_when_it_returns_as_follower()
    {
        await using var cluster = await InProcessCluster.StartAsync(3); // replica.lag.time.max.ms 30 s: the ISR stays {1,2,3}
        await cluster.CreateTopicAsync("diverge", [1, 2, 3], minInsyncReplicas: 2);
        using (var producer = cluster.Producer(Acks.All))
            for (int i = 0; i < 10; i++) await producer.ProduceAsync("diverge", new Message<string, string> { Key = "k", Value = $"committed-{i}" });

        // 2 and 3 go away; 1 (leader, epoch 0) takes acks=1 writes that reach no other replica: never acknowledged for acks=all.
        await cluster.StopNodeAsync(2);
        await cluster.StopNodeAsync(3);
        using (var producer = cluster.Producer(Acks.Leader))
            for (int i = 0; i < 5; i++) await producer.ProduceAsync("diverge", new Message<string, string> { Key = "k", Value = $"lost-{i}" });
        var old = cluster.PartitionOn(1, "diverge")!;
        Assert.Equal(15, old.Log.LogEndOffset);
        Assert.Equal(10, old.HighWatermark);

        // Consumers never see past the high watermark: the unreplicated tail is invisible.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"committed-{i}"), ConsumeAll(cluster, "diverge", expected: 10));

        // 1 goes away; 2 and 3 return and the controller elects 2 (it was in the ISR): leader epoch 1.
        await cluster.StopNodeAsync(1);
        await cluster.StartNodeAsync(2);
        await cluster.StartNodeAsync(3);
        var topicId = cluster.Metadata.Image.Topic("diverge")!.TopicId;
        await cluster.Metadata.AppendAsync([new PartitionChangeRecord(topicId, 0, 2, [2, 3], null)]);
        Assert.Equal(1, cluster.PartitionImage("diverge").LeaderEpoch);
        using (var producer = cluster.Producer(Acks.All))
            for (int i = 0; i < 10; i++) await producer.ProduceAsync("diverge", new Message<string, string> { Key = "k", Value = $"new-{i}" });

        // 1 returns as a follower of 2: its epoch-0 tail (offsets 10-14) is cut, and 2's epoch-1 records take their place.
        await cluster.StartNodeAsync(1);
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionOn(1, "diverge")?.Log.LogEndOffset == 20
                                                    && cluster.PartitionImage("diverge").Isr.Contains(1), "replica 1 caught up and back in the ISR");
        var leader = InProcessCluster.Batches(cluster.PartitionOn(2, "diverge")!);
        var returned = InProcessCluster.Batches(cluster.PartitionOn(1, "diverge")!);
        Assert.Equal(leader.Select(b => (b.Offset, b.Epoch)), returned.Select(b => (b.Offset, b.Epoch)));
        Assert.Equal(leader.Select(b => b.Bytes), returned.Select(b => b.Bytes));
        Assert.All(returned.Where(b => b.Offset >= 10), b => Assert.Equal(1, b.Epoch));
        Assert.Contains(cluster.Nodes[1].Logs.Lines, l => l.Contains("Truncating diverge-0 from 15 to 10"));
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => $"committed-{i}"), .. Enumerable.Range(0, 10).Select(i => $"new-{i}")],
            ConsumeAll(cluster, "diverge", expected: 20));
    }

    [Fact]
    public async Task With_two_of_three_replicas_down_acks_all_fails_with_not_enough_replicas_and_resumes_when_they_return()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, FastLag);
        await cluster.CreateTopicAsync("quorum", [1, 2, 3], minInsyncReplicas: 2);
        using (var producer = cluster.Producer(Acks.All))
            for (int i = 0; i < 10; i++) await producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = $"ok-{i}" });

        await cluster.StopNodeAsync(2);
        await cluster.StopNodeAsync(3);
        // An idle leader cannot tell a dead follower from a caught-up one (as Kafka; there the controller fences dead
        // brokers): one acks=1 write makes them lag, and the leader removes them after replica.lag.time.max.ms.
        using (var producer = cluster.Producer(Acks.Leader))
            await producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = "acks-1" });
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionImage("quorum").Isr.SequenceEqual([1]), "the ISR shrinks to the leader");
        var leader = cluster.PartitionOn(1, "quorum")!;
        await InProcessCluster.WaitUntilAsync(() => leader.HighWatermark == 11, "the high watermark covers the acks=1 record (ISR {1})");
        // No client retries: librdkafka would retry NOT_ENOUGH_REPLICAS (retriable) until its message timeout.
        using (var producer = cluster.Producer(Acks.All, messageTimeoutMs: 5000, retries: 0))
        {
            var e = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = "refused" }));
            Assert.Equal(ErrorCode.NotEnoughReplicas, e.Error.Code);
        }
        // Refused before the append: nothing was written, nothing acknowledged, nothing visible.
        Assert.Equal(11, leader.Log.LogEndOffset);
        Assert.Equal(11, leader.HighWatermark);
        Assert.Equal(11, ConsumeAll(cluster, "quorum", expected: 11).Count);

        await cluster.StartNodeAsync(2);
        await cluster.StartNodeAsync(3);
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionImage("quorum").Isr.Length == 3, "the ISR is whole again");
        using (var producer = cluster.Producer(Acks.All))
        {
            var delivered = await producer.ProduceAsync("quorum", new Message<string, string> { Key = "k", Value = "resumed" });
            Assert.Equal(11, delivered.Offset.Value);
        }
    }

    private static List<string> ConsumeAll(InProcessCluster cluster, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = "g-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false, EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF)
            {
                if (values.Count >= expected) break;
                continue;
            }
            values.Add(r.Message.Value);
        }
        var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(5));
        Assert.Equal(expected, watermarks.High.Value);
        return values;
    }
}
