using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// Issue 7's chaos test: an idempotent acks=all producer writes continuously to an RF=3, min.insync.replicas=2 topic
/// while the leader of a partition is killed with SIGKILL and restarted, again and again; then everything is read back.
/// Every acknowledged record must be there exactly once, at the offset its delivery report named, in order.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const string Topic = "chaos";
    private const int Partitions = 3;
    private const int Kills = 10;

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    private sealed record Ack(int Partition, long Offset, string Value, long SentTicks, long AtTicks);

    [Fact]
    public async Task Killing_partition_leaders_under_an_idempotent_acks_all_producer_loses_and_duplicates_nothing()
    {
        await using var cluster = new ClusterFixture();
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, TimeSpan.FromSeconds(30));
        using (var admin = ClusterFixture.Admin(cluster.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = Topic, NumPartitions = Partitions, ReplicationFactor = 3,
                Configs = new Dictionary<string, string> { ["min.insync.replicas"] = "2" },
            }], new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20) });
        }
        await WaitForFullIsrAsync(cluster, TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        var acks = new ConcurrentQueue<Ack>();
        var lastAck = new long[Partitions];
        var lastSentAcked = new long[Partitions]; // the latest send time among acknowledged records
        int failed = 0;
        string? firstError = null;
        var allNodes = string.Join(",", cluster.Nodes.Select(n => n.Bootstrap));
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = allNodes,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            MessageTimeoutMs = 60000,
            RequestTimeoutMs = 5000,
            SocketTimeoutMs = 5000,
            TopicMetadataRefreshIntervalMs = 1000,
            ReconnectBackoffMaxMs = 500,
        }).SetLogHandler((_, _) => { }).Build();

        using var stop = new CancellationTokenSource();
        using var inFlight = new SemaphoreSlim(200);
        var produced = 0;
        var producing = Task.Run(async () =>
        {
            // About 600 records a second, so two cores shared with three nodes restarting are not starved.
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            var seq = new long[Partitions];
            while (await pace.WaitForNextTickAsync() && !stop.IsCancellationRequested)
            {
                for (int burst = 0; burst < 6; burst++)
                {
                    await inFlight.WaitAsync();
                    int p = produced++ % Partitions;
                    string value = $"{p}:{seq[p]++}";
                    long sentAt = clock.ElapsedTicks;
                    producer.Produce(new TopicPartition(Topic, p), new Message<Null, string> { Value = value }, report =>
                    {
                        inFlight.Release();
                        if (report.Error.IsError)
                        {
                            Interlocked.Increment(ref failed);
                            firstError ??= report.Error.Reason;
                            return;
                        }
                        long now = clock.ElapsedTicks;
                        acks.Enqueue(new Ack(report.Partition.Value, report.Offset.Value, value, sentAt, now));
                        Volatile.Write(ref lastAck[report.Partition.Value], now);
                        long seen;
                        do seen = Volatile.Read(ref lastSentAcked[report.Partition.Value]);
                        while (sentAt > seen && Interlocked.CompareExchange(ref lastSentAcked[report.Partition.Value], sentAt, seen) != seen);
                    });
                }
            }
        });

        await WaitForAsync("first acknowledgements", TimeSpan.FromSeconds(20), () => acks.Count >= 300);
        var ackFailover = new List<double>();
        var metadataFailover = new List<double>();
        for (int kill = 0; kill < Kills; kill++)
        {
            int partition = kill % Partitions;
            var observer = cluster.Nodes.First(n => n.IsRunning);
            var before = TopicOf(observer);
            int leader = before.Partitions.First(p => p.PartitionId == partition).Leader;
            var victim = cluster.Node(leader);
            victim.Kill();
            long killedAt = clock.ElapsedTicks; // once the process is gone: until then it may still acknowledge

            var survivor = cluster.Nodes.First(n => n.IsRunning);
            await ClusterFixture.WaitForAsync($"a new leader for {Topic}-{partition} after killing node {leader}", TimeSpan.FromSeconds(20), () =>
            {
                var now = TopicOf(survivor).Partitions.First(p => p.PartitionId == partition);
                return now.Leader >= 0 && now.Leader != leader ? now : null;
            });
            metadataFailover.Add(Ms(clock.ElapsedTicks - killedAt));
            long restartedAt = clock.ElapsedTicks;
            victim.Start();
            await WaitForAsync($"an acknowledgement of a record sent to {Topic}-{partition} after killing node {leader}", TimeSpan.FromSeconds(30),
                () => Volatile.Read(ref lastSentAcked[partition]) > killedAt);
            ackFailover.Add(Ms(acks.Where(a => a.Partition == partition && a.SentTicks > killedAt).Min(a => a.AtTicks) - killedAt));
            Report($"kill {kill + 1}: node {leader} (leader of {Topic}-{partition}); new leader in metadata after {metadataFailover[^1]:F0} ms, " +
                   $"first ack of a record sent after the kill {ackFailover[^1]:F0} ms after it; {acks.Count} acks so far");
            await WaitForFullIsrAsync(cluster, TimeSpan.FromSeconds(40));
            Report($"kill {kill + 1}: node {leader} restarted and back in every ISR after {Ms(clock.ElapsedTicks - restartedAt):F0} ms");
        }
        long healed = clock.ElapsedTicks;
        await WaitForAsync("acks on every partition after the last restart", TimeSpan.FromSeconds(20),
            () => Enumerable.Range(0, Partitions).All(p => Volatile.Read(ref lastAck[p]) > healed));
        await stop.CancelAsync();
        await producing;
        producer.Flush(TimeSpan.FromSeconds(60));

        // Read everything back from the beginning of each partition to its high watermark.
        var acked = acks.ToList();
        var read = new Dictionary<int, List<(long Offset, string Value)>>();
        using (var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
               {
                   BootstrapServers = cluster.Bootstrap, GroupId = "chaos-verify", EnableAutoCommit = false,
                   AutoOffsetReset = AutoOffsetReset.Earliest,
               }).SetLogHandler((_, _) => { }).Build())
        {
            for (int p = 0; p < Partitions; p++)
            {
                var tp = new TopicPartition(Topic, p);
                long end = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
                var records = read[p] = [];
                consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
                var deadline = Stopwatch.StartNew();
                while ((records.Count == 0 || records[^1].Offset < end - 1) && deadline.Elapsed < TimeSpan.FromSeconds(30))
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
                    if (result is { IsPartitionEOF: false, Message: not null }) records.Add((result.Offset.Value, result.Message.Value));
                }
                consumer.Unassign();
            }
        }

        var logged = read.SelectMany(kv => kv.Value.Select(r => (Partition: kv.Key, r.Offset, r.Value))).ToList();
        var byValue = logged.GroupBy(r => r.Value).ToDictionary(g => g.Key, g => g.ToList());
        int duplicates = byValue.Values.Sum(g => g.Count - 1);
        int missing = acked.Count(a => !byValue.ContainsKey(a.Value));
        int misplaced = acked.Count(a => byValue.TryGetValue(a.Value, out var at) && !at.Any(r => r.Partition == a.Partition && r.Offset == a.Offset));
        int outOfOrder = 0;
        foreach (var (p, records) in read)
        {
            long previous = -1;
            foreach (var (_, value) in records)
            {
                long seq = long.Parse(value.AsSpan(value.IndexOf(':') + 1), System.Globalization.CultureInfo.InvariantCulture);
                if (seq <= previous) outOfOrder++;
                previous = seq;
            }
        }
        Report($"chaos: {Kills} leader kills in {clock.Elapsed.TotalSeconds:F1} s; produced {produced}, acknowledged {acked.Count}, " +
               $"failed deliveries {failed}{(firstError is null ? "" : $" (first: {firstError})")}, read back {logged.Count}; " +
               $"acknowledged-but-missing {missing}, duplicates {duplicates}, acknowledged at another offset {misplaced}, out of order {outOfOrder}");
        Report($"chaos: failover (kill -> new leader in Metadata) ms: min {metadataFailover.Min():F0}, median {Median(metadataFailover):F0}, max {metadataFailover.Max():F0}; " +
               $"(kill -> next ack on the partition) ms: min {ackFailover.Min():F0}, median {Median(ackFailover):F0}, max {ackFailover.Max():F0}");

        foreach (var a in acked.Where(a => byValue.TryGetValue(a.Value, out var at) && !at.Any(r => r.Partition == a.Partition && r.Offset == a.Offset)).Take(10))
            Report($"chaos: acknowledged {a.Value} at {Topic}-{a.Partition}@{a.Offset} but found at " +
                   string.Join(",", byValue[a.Value].Select(r => $"{Topic}-{r.Partition}@{r.Offset}")) +
                   $"; the log holds {read[a.Partition].FirstOrDefault(r => r.Offset == a.Offset).Value ?? "nothing"} at the acknowledged offset");
        Assert.Equal(0, missing);
        Assert.Equal(0, duplicates);
        Assert.Equal(0, misplaced);
        Assert.Equal(0, outOfOrder);
        Assert.True(acked.Count > 1000, $"only {acked.Count} records were acknowledged");
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static TopicMetadata TopicOf(NodeProcess node) =>
        ClusterFixture.MetadataOf(node).Topics.FirstOrDefault(t => t.Topic == Topic && t.Error.Code == ErrorCode.NoError)
        ?? throw new InvalidOperationException($"node {node.NodeId} does not know {Topic} yet");

    private static Task WaitForFullIsrAsync(ClusterFixture cluster, TimeSpan timeout) =>
        ClusterFixture.WaitForAsync("every replica of every partition in the ISR", timeout, () =>
        {
            var node = cluster.Nodes.First(n => n.IsRunning);
            var topic = TopicOf(node);
            return topic.Partitions.Count == Partitions && topic.Partitions.All(p => p.InSyncReplicas.Length == 3 && p.Leader >= 0) ? topic : null;
        });

    private static Task WaitForAsync(string what, TimeSpan timeout, Func<bool> condition) =>
        ClusterFixture.WaitForAsync(what, timeout, () => condition() ? "" : null);
}
