using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// Scale-out with real `samsa server` processes and real clients: a 4th node joins and `samsa cluster rebalance`
/// moves replicas onto it (AlterPartitionReassignments) under a running idempotent acks=all producer and a consumer;
/// CreatePartitions spreads new partitions over every node; ElectLeaders brings preferred leaders back after a restart.
/// </summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(30);

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    private static async Task CreateTopicAsync(string bootstrap, string name, int partitions, short replicationFactor,
        Dictionary<string, string>? configs = null)
    {
        using var admin = ClusterFixture.Admin(bootstrap);
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = replicationFactor, Configs = configs }],
                new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(20), OperationTimeout = TimeSpan.FromSeconds(20) });
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
        {
            // An earlier attempt that timed out on the client during an election was committed after all.
        }
    }

    private static TopicMetadata? TopicOn(NodeProcess node, string topic) =>
        ClusterFixture.MetadataOf(node).Topics.FirstOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0);

    /// <summary>Runs the real `samsa` CLI (samsa.dll next to the tests) and returns its exit code and output.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> SamsaAsync(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "samsa.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SAMSA_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "samsa-cluster-test-no-config");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"samsa {string.Join(' ', args)} did not finish within {timeout}: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task A_joining_node_takes_over_replicas_by_reassignment_while_a_producer_and_a_consumer_see_no_error()
    {
        const string topic = "scale-out";
        var total = Stopwatch.StartNew();
        await using var cluster = new ClusterFixture();
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        Report($"scale-out: 3 nodes formed after {total.Elapsed.TotalSeconds:F1} s");
        string bootstrap = cluster.Bootstrap;
        await CreateTopicAsync(bootstrap, topic, 4, 3, new() { ["min.insync.replicas"] = "2" });
        await ClusterFixture.WaitForAsync("topic on every node", Formation, () =>
            cluster.Nodes.All(n => TopicOn(n, topic) is { } t && t.Partitions.All(p => p.Leader >= 0)) ? cluster : null);

        Report($"scale-out: topic ready after {total.Elapsed.TotalSeconds:F1} s");

        // Node 4 (broker only) starts joining now, while the clients below warm up; the topic lives on nodes 1-3.
        var node4 = cluster.AddBrokerOnlyNode();
        node4.Start();

        // The application: an idempotent acks=all producer and a consumer reading every partition, errors counted.
        var deliveryErrors = new ConcurrentQueue<string>();
        var clientErrors = new ConcurrentQueue<string>();
        var acknowledged = new ConcurrentDictionary<long, byte>();
        var consumed = new ConcurrentDictionary<long, int>();
        long consumedTotal = 0;
        using var stop = new CancellationTokenSource();
        using var stopConsumer = new CancellationTokenSource();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5,
            MessageTimeoutMs = 60000, RequestTimeoutMs = 15000,
        }).SetErrorHandler((_, e) => clientErrors.Enqueue($"producer: {e.Code} {e.Reason}")).SetLogHandler((_, _) => { }).Build();
        var producing = Task.Run(async () =>
        {
            long next = 0;
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 10; i++)
                {
                    long value = next++;
                    producer.Produce(topic, new Message<Null, string> { Value = value.ToString() }, report =>
                    {
                        if (report.Error.IsError) deliveryErrors.Enqueue($"{value}: {report.Error.Code} {report.Error.Reason}");
                        else acknowledged[value] = 0;
                    });
                }
                await Task.Delay(50);
            }
            producer.Flush(TimeSpan.FromSeconds(60));
            return next;
        });
        var consuming = Task.Run(() =>
        {
            using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = "scale-out-reader", EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
            }).SetErrorHandler((_, e) => clientErrors.Enqueue($"consumer: {e.Code} {e.Reason}")).SetLogHandler((_, _) => { }).Build();
            consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            while (!stopConsumer.IsCancellationRequested)
            {
                try
                {
                    var result = consumer.Consume(100);
                    if (result is null) continue;
                    consumed.AddOrUpdate(long.Parse(result.Message.Value), 1, (_, n) => n + 1);
                    Interlocked.Increment(ref consumedTotal);
                }
                catch (ConsumeException e)
                {
                    clientErrors.Enqueue($"consume: {e.Error.Code} {e.Error.Reason}");
                }
            }
            consumer.Close();
        });
        long produced;
        try
        {
            await ClusterFixture.WaitForAsync("the first records to be acknowledged and consumed", Formation,
                () => acknowledged.Count > 100 && Interlocked.Read(ref consumedTotal) > 100 ? cluster : null);

            Report($"scale-out: clients running after {total.Elapsed.TotalSeconds:F1} s");

            // Node 4 has joined (registered and unfenced, so placeable); the rebalance moves replicas onto it, online.
            await cluster.WaitForClusterAsync(4, Formation);
            await ClusterFixture.WaitForAsync("node 4 unfenced", Formation, async () =>
            {
                using var admin = ClusterFixture.Admin(cluster.Node(1).Bootstrap);
                var described = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = TimeSpan.FromSeconds(3) });
                return described.Nodes.Count == 4 ? described : null;
            });
            Report($"scale-out: node 4 live after {total.Elapsed.TotalSeconds:F1} s");
            var before = TopicOn(cluster.Node(1), topic)!;
            Assert.DoesNotContain(before.Partitions, p => p.Replicas.Contains(node4.NodeId));
            var watch = Stopwatch.StartNew();
            var (exit, stdout, stderr) = await SamsaAsync(TimeSpan.FromSeconds(45), "cluster", "rebalance", "-b", cluster.Node(1).Bootstrap,
                "--topics", topic, "--wait", "--wait-timeout", "40", "--timeout", "30", "-o", "json");
            Assert.True(exit == 0, $"rebalance exit {exit}: {stderr}\n{stdout}\n{cluster.Logs()}");
            var plan = JsonNode.Parse(stdout)!;
            Report($"rebalance: {plan["replicaMoves"]} replica move(s), {plan["leaderChanges"]} leader change(s), completed={plan["completed"]}, " +
                   $"{plan["leadersElected"]} preferred leader(s) elected, in {watch.Elapsed.TotalSeconds:F1} s (CLI start included)");
            Assert.True((bool)plan["completed"]!, stdout);
            Assert.Equal(3, (int)plan["replicaMoves"]!); // 12 replicas over 4 brokers: 3 move to node 4

            // Every node agrees: node 4 holds 3 replicas, all in sync; every broker holds 3; no reassignment left.
            foreach (var node in cluster.Nodes)
            {
                await ClusterFixture.WaitForAsync($"node {node.NodeId} to see the balanced assignment", Formation, () =>
                {
                    var t = TopicOn(node, topic);
                    if (t is null) return null;
                    var load = t.Partitions.SelectMany(p => p.Replicas).GroupBy(b => b).ToDictionary(g => g.Key, g => g.Count());
                    return load.Count == 4 && load.Values.All(c => c == 3) && t.Partitions.All(p => p.InSyncReplicas.Length == 3 && p.Leader >= 0) ? t : null;
                });
            }
            Report($"scale-out: every node sees the balanced assignment after {total.Elapsed.TotalSeconds:F1} s");
            // A node holds a log exactly for the partitions it is a replica of: removed replicas deleted theirs.
            var final = TopicOn(cluster.Node(1), topic)!;
            await ClusterFixture.WaitForAsync("logs only on the replicas", Formation, () =>
                final.Partitions.All(p => cluster.Nodes.All(n =>
                    Directory.Exists(Path.Combine(n.DataDir, "data", $"{topic}-{p.PartitionId}")) == p.Replicas.Contains(n.NodeId))) ? final : null);
            var (listExit, listed, _) = await SamsaAsync(TimeSpan.FromSeconds(30), "cluster", "reassignments", "-b", node4.Bootstrap, "-o", "json");
            Assert.Equal(0, listExit);
            Assert.Empty(JsonNode.Parse(listed)!.AsArray());

            // Keep producing a little on the new layout, then stop and read everything back.
            long ackedAtMove = acknowledged.Count;
            await ClusterFixture.WaitForAsync("records acknowledged after the move", Formation, () => acknowledged.Count > ackedAtMove + 50 ? cluster : null);
            stop.Cancel();
            produced = await producing;
            await ClusterFixture.WaitForAsync("every acknowledged record to be consumed", Formation,
                () => acknowledged.Keys.All(consumed.ContainsKey) ? cluster : null);
            stopConsumer.Cancel();
            await consuming;

        }
        finally
        {
            // The clients must stop before they are disposed, whatever failed (a disposed librdkafka handle crashes).
            stop.Cancel();
            stopConsumer.Cancel();
            await Task.WhenAll(producing, consuming).WaitAsync(TimeSpan.FromSeconds(90));
        }
        Report($"scale-out: clients stopped after {total.Elapsed.TotalSeconds:F1} s");
        int duplicates = consumed.Values.Sum(n => n - 1);
        long lost = acknowledged.Keys.Count(v => !consumed.ContainsKey(v));
        Report($"scale-out: produced {produced}, acknowledged {acknowledged.Count}, consumed {Interlocked.Read(ref consumedTotal)} " +
               $"({consumed.Count} distinct), lost {lost}, duplicates {duplicates}, delivery errors {deliveryErrors.Count}, client errors {clientErrors.Count}");
        Assert.True(deliveryErrors.IsEmpty, string.Join("\n", deliveryErrors.Take(10)));
        Assert.True(clientErrors.IsEmpty, string.Join("\n", clientErrors.Take(10)));
        Assert.Equal(produced, acknowledged.Count);
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicates);
    }

    [Fact]
    public async Task CreatePartitions_places_the_new_partitions_across_every_node_including_a_joined_one()
    {
        const string topic = "grow";
        await using var cluster = new ClusterFixture();
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        await CreateTopicAsync(cluster.Bootstrap, topic, 2, 2);
        var node4 = cluster.AddBrokerOnlyNode();
        node4.Start();
        await cluster.WaitForClusterAsync(4, Formation);

        using (var admin = ClusterFixture.Admin(node4.Bootstrap))
            await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 10 }],
                new CreatePartitionsOptions { RequestTimeout = TimeSpan.FromSeconds(20) });
        var grown = await ClusterFixture.WaitForAsync("10 partitions with leaders on node 1", Formation, () =>
            TopicOn(cluster.Node(1), topic) is { Partitions.Count: 10 } t && t.Partitions.All(p => p.Leader >= 0 && p.InSyncReplicas.Length == 2) ? t : null);
        var added = grown.Partitions.Where(p => p.PartitionId >= 2).ToList();
        Assert.All(added, p => Assert.Equal(2, p.Replicas.Distinct().Count()));
        var leaders = added.GroupBy(p => p.Leader).ToDictionary(g => g.Key, g => g.Count());
        Report($"CreatePartitions 2 -> 10: new partitions' leaders per broker {string.Join(", ", leaders.OrderBy(l => l.Key).Select(l => $"{l.Key}:{l.Value}"))}");
        Assert.Equal([1, 2, 3, 4], leaders.Keys.Order());          // 8 new partitions over 4 brokers: each leads 2
        Assert.All(leaders.Values, count => Assert.Equal(2, count));

        // Every new partition takes writes (acks=all) and serves them back.
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.Bootstrap, Acks = Acks.All })
                   .SetLogHandler((_, _) => { }).Build())
            foreach (var p in added)
                await producer.ProduceAsync(new TopicPartition(topic, p.PartitionId), new Message<Null, string> { Value = $"p{p.PartitionId}" });
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = cluster.Bootstrap, GroupId = "grow-reader" })
            .SetLogHandler((_, _) => { }).Build();
        consumer.Assign(added.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        var seen = new HashSet<string>();
        var deadline = Stopwatch.StartNew();
        while (seen.Count < added.Count && deadline.Elapsed < Formation)
            if (consumer.Consume(200) is { } r) seen.Add(r.Message.Value);
        Assert.Equal(added.Select(p => $"p{p.PartitionId}").Order(), seen.Order());
    }

    [Fact]
    public async Task ElectLeaders_brings_preferred_leaders_back_after_a_restart()
    {
        const string topic = "preferred";
        // Automatic preferred-leader rebalancing off: the election must come from ElectLeaders.
        await using var cluster = new ClusterFixture(extraConfig: new Dictionary<string, string> { ["auto.leader.rebalance.enable"] = "false" });
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);
        await CreateTopicAsync(cluster.Bootstrap, topic, 6, 3);
        var observer = cluster.Node(2);
        var initial = await ClusterFixture.WaitForAsync("topic with full ISRs", Formation, () =>
            TopicOn(observer, topic) is { } t && t.Partitions.All(p => p.InSyncReplicas.Length == 3 && p.Leader >= 0) ? t : null);
        Assert.Equal(2, initial.Partitions.Count(p => p.Replicas[0] == 1)); // node 1 is the preferred leader of 2 partitions

        var victim = cluster.Node(1);
        victim.Kill();
        await ClusterFixture.WaitForAsync("leadership to leave node 1", Formation, () =>
            TopicOn(observer, topic) is { } t && t.Partitions.All(p => p.Leader is 2 or 3) ? t : null);
        victim.Start();
        var returned = await ClusterFixture.WaitForAsync("node 1 back in every ISR", Formation, () =>
            TopicOn(observer, topic) is { } t && t.Partitions.All(p => p.InSyncReplicas.Contains(1) && p.Leader >= 0) ? t : null);
        var displaced = returned.Partitions.Where(p => p.Leader != p.Replicas[0]).Select(p => p.PartitionId).ToList();
        // Node 1 came back but leads nothing: at least its 2 partitions are not led by their preferred replica.
        Assert.True(displaced.Count >= 2, $"displaced {string.Join(",", displaced)}");

        using var admin = ClusterFixture.Admin(cluster.Node(3).Bootstrap);
        var partitions = initial.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        Dictionary<int, ErrorCode> errors;
        try
        {
            var result = await admin.ElectLeadersAsync(ElectionType.Preferred, partitions, new ElectLeadersOptions { RequestTimeout = TimeSpan.FromSeconds(20) });
            errors = result.TopicPartitions.ToDictionary(r => r.TopicPartition.Partition.Value, r => r.Error.Code);
        }
        catch (ElectLeadersException e)
        {
            // ELECTION_NOT_NEEDED for the partitions whose preferred replica already leads makes the client throw.
            errors = e.Results.TopicPartitions.ToDictionary(r => r.TopicPartition.Partition.Value, r => r.Error.Code);
        }
        Report($"ElectLeaders(PREFERRED): {string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Key}:{e.Value}"))}");
        foreach (var p in initial.Partitions)
            Assert.Equal(displaced.Contains(p.PartitionId) ? ErrorCode.NoError : ErrorCode.ElectionNotNeeded, errors[p.PartitionId]);
        await ClusterFixture.WaitForAsync("preferred leaders everywhere", Formation, () =>
            cluster.Nodes.All(n => TopicOn(n, topic) is { } t && t.Partitions.All(p => p.Leader == p.Replicas[0])) ? cluster : null);
    }
}
