using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// The group coordinator follows leadership of its __consumer_offsets partition: kill -9 the coordinator node while a
/// group consumes and commits, and the group must find the new coordinator (the new leader of that partition, which
/// loads the group from its replica), no committed offset may go backwards, and every record is consumed
/// (at least once: re-deliveries only from the last commit on).
/// </summary>
public sealed class CoordinatorFailoverTests(ITestOutputHelper output)
{
    private const string Topic = "orders";
    private const string Group = "billing";
    private const int Partitions = 3;
    private const int Records = 3000;

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    [Fact]
    public async Task A_group_keeps_consuming_across_a_coordinator_kill_with_committed_offsets_intact()
    {
        await using var cluster = new ClusterFixture(extraConfig: new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "6",
        });
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, TimeSpan.FromSeconds(30));
        var allNodes = string.Join(",", cluster.Nodes.Select(n => n.Bootstrap));
        using (var admin = ClusterFixture.Admin(allNodes))
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = Topic, NumPartitions = Partitions, ReplicationFactor = 3,
                Configs = new Dictionary<string, string> { ["min.insync.replicas"] = "2" },
            }], new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20) });
        }
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = allNodes, Acks = Acks.All, EnableIdempotence = true })
                   .SetLogHandler((_, _) => { }).Build())
        {
            for (int i = 0; i < Records; i++) producer.Produce(new TopicPartition(Topic, i % Partitions), new Message<Null, string> { Value = $"r{i}" });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var consumed = new Dictionary<(int, long), int>();
        var committed = new long[Partitions];            // highest offset this consumer saw committed
        var committedAtKill = new long[Partitions];
        int commitFailures = 0;
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = allNodes, GroupId = Group, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500, SocketTimeoutMs = 5000, ReconnectBackoffMaxMs = 500,
            TopicMetadataRefreshIntervalMs = 1000,
        };
        var watch = Stopwatch.StartNew();
        TimeSpan? firstCommitAfterKill = null;
        TimeSpan killAt = default;
        var consuming = Task.Run(async () =>
        {
            using var consumer = new ConsumerBuilder<Ignore, string>(consumerConfig).SetLogHandler((_, _) => { }).Build();
            consumer.Subscribe(Topic);
            int sinceCommit = 0;
            while (consumed.Count < Records && watch.Elapsed < TimeSpan.FromSeconds(90))
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is { Message: not null, IsPartitionEOF: false })
                {
                    var key = (result.Partition.Value, result.Offset.Value);
                    consumed[key] = consumed.GetValueOrDefault(key) + 1;
                    sinceCommit++;
                }
                if (sinceCommit >= 50 || (result is null && sinceCommit > 0))
                {
                    try
                    {
                        foreach (var tpo in consumer.Commit())
                            committed[tpo.Partition.Value] = Math.Max(committed[tpo.Partition.Value], tpo.Offset.Value);
                        sinceCommit = 0;
                        if (killed.Task.IsCompleted) firstCommitAfterKill ??= watch.Elapsed - killAt;
                    }
                    catch (KafkaException)
                    {
                        commitFailures++; // coordinator moving: retried with the next batch
                    }
                }
                if (consumed.Count >= Records / 3 && !halfway.Task.IsCompleted && sinceCommit == 0)
                {
                    committed.CopyTo(committedAtKill, 0);
                    halfway.SetResult();
                    await killed.Task; // consume on only once the coordinator is dead
                }
            }
            for (int attempt = 0; attempt < 50; attempt++)
            {
                try
                {
                    foreach (var tpo in consumer.Commit())
                        committed[tpo.Partition.Value] = Math.Max(committed[tpo.Partition.Value], tpo.Offset.Value);
                    break;
                }
                catch (KafkaException e) when (e.Error.Code != ErrorCode.Local_NoOffset)
                {
                    commitFailures++;
                    await Task.Delay(200);
                }
                catch (KafkaException)
                {
                    break;
                }
            }
            consumer.Close();
        });

        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(60));
        int coordinator;
        using (var admin = ClusterFixture.Admin(allNodes))
        {
            var described = await admin.DescribeConsumerGroupsAsync([Group], new DescribeConsumerGroupsOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
            coordinator = described.ConsumerGroupDescriptions[0].Coordinator.Id;
        }
        killAt = watch.Elapsed;
        cluster.Node(coordinator).Kill();
        killed.SetResult();
        Report($"coordinator failover: killed coordinator node {coordinator} after {consumed.Count} of {Records} records; committed then [{string.Join(",", committedAtKill)}]");

        await consuming.WaitAsync(TimeSpan.FromSeconds(100));
        int newCoordinator;
        using (var admin = ClusterFixture.Admin(string.Join(",", cluster.Nodes.Where(n => n.IsRunning).Select(n => n.Bootstrap))))
        {
            var described = await admin.DescribeConsumerGroupsAsync([Group], new DescribeConsumerGroupsOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
            newCoordinator = described.ConsumerGroupDescriptions[0].Coordinator.Id;
        }

        // A fresh member of the group starts from the committed offsets: they must be the end of every partition.
        var survivors = string.Join(",", cluster.Nodes.Where(n => n.IsRunning).Select(n => n.Bootstrap));
        using var verifier = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(consumerConfig) { BootstrapServers = survivors }).SetLogHandler((_, _) => { }).Build();
        var tps = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList();
        var stored = verifier.Committed(tps, TimeSpan.FromSeconds(10)).ToDictionary(t => t.Partition.Value, t => t.Offset.Value);
        var ends = tps.ToDictionary(tp => tp.Partition.Value, tp => verifier.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);

        int missing = 0, duplicates = 0, duplicatesBeforeCommit = 0;
        foreach (var tp in tps)
        {
            int p = tp.Partition.Value;
            for (long offset = 0; offset < ends[p]; offset++)
            {
                int times = consumed.GetValueOrDefault((p, offset));
                if (times == 0) missing++;
                if (times > 1)
                {
                    duplicates += times - 1;
                    if (offset < committedAtKill[p]) duplicatesBeforeCommit += times - 1;
                }
            }
        }
        Report($"coordinator failover: new coordinator node {newCoordinator}; first successful commit {firstCommitAfterKill?.TotalMilliseconds:F0} ms after the kill; " +
               $"{commitFailures} commit attempt(s) failed meanwhile; consumed {consumed.Values.Sum()} deliveries of {ends.Values.Sum()} records: " +
               $"missing {missing}, re-delivered {duplicates} (before the last pre-kill commit: {duplicatesBeforeCommit}); " +
               $"committed at kill [{string.Join(",", committedAtKill)}], finally [{string.Join(",", tps.Select(tp => stored[tp.Partition.Value]))}] of ends [{string.Join(",", tps.Select(tp => ends[tp.Partition.Value]))}]");

        Assert.NotEqual(coordinator, newCoordinator);
        Assert.Equal(Records, ends.Values.Sum());
        Assert.Equal(0, missing);
        Assert.Equal(0, duplicatesBeforeCommit);
        foreach (var tp in tps)
        {
            int p = tp.Partition.Value;
            Assert.True(stored[p] >= committedAtKill[p], $"partition {p}: committed offset went back from {committedAtKill[p]} to {stored[p]}");
            Assert.Equal(ends[p], stored[p]);
        }
        Assert.NotNull(firstCommitAfterKill);
    }
}
