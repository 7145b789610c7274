using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration;

/// <summary>Classic consumer groups end to end with librdkafka (Confluent.Kafka): assignment, rebalances, commits, restart, static members.</summary>
public sealed class ConsumerGroupTests
{
    private static readonly Dictionary<string, string> Overrides = new()
    {
        ["offsets.topic.num.partitions"] = "4",
        ["group.initial.rebalance.delay.ms"] = "0",
    };

    /// <summary>A consumer polling on its own thread; every record is committed synchronously before it counts as consumed.</summary>
    private sealed class Member : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private readonly IConsumer<string, string> _consumer;

        public Member(string name, string bootstrap, string group, string topic, Ownership ownership,
            PartitionAssignmentStrategy strategy = PartitionAssignmentStrategy.Range, string? instanceId = null)
        {
            Name = name;
            var config = new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = group, GroupInstanceId = instanceId,
                AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
                SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500, MaxPollIntervalMs = 10_000,
                PartitionAssignmentStrategy = strategy,
            };
            _consumer = new ConsumerBuilder<string, string>(config)
                .SetPartitionsAssignedHandler((_, ps) => ownership.Assigned(name, ps))
                .SetPartitionsRevokedHandler((_, ps) => ownership.Revoked(name, ps.Select(p => p.TopicPartition)))
                .SetPartitionsLostHandler((_, ps) => ownership.Revoked(name, ps.Select(p => p.TopicPartition)))
                .Build();
            _consumer.Subscribe(topic);
            _thread = new Thread(() =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    ConsumeResult<string, string>? result = null;
                    try
                    {
                        result = _consumer.Consume(100);
                        if (result is null || result.IsPartitionEOF) continue;
                        _consumer.Commit(result);
                        ownership.Consumed.AddOrUpdate(result.Message.Value, 1, (_, n) => n + 1);
                    }
                    catch (KafkaException)
                    {
                        // A commit rejected by a rebalance (REBALANCE_IN_PROGRESS, as Kafka): the record is not counted.
                        // The position already moved past it, and a cooperative rebalance keeps retained partitions'
                        // positions, so seek back to consume it again (if the partition moved, its new owner starts from
                        // the committed offset anyway).
                        if (result is { IsPartitionEOF: false })
                        {
                            try
                            {
                                _consumer.Seek(result.TopicPartitionOffset);
                            }
                            catch (KafkaException)
                            {
                            }
                        }
                    }
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public string Name { get; }

        /// <summary>Stops polling without leaving the group (the broker must notice on its own).</summary>
        public void Abandon()
        {
            _stop.Cancel();
            _thread.Join();
        }

        public void Dispose()
        {
            if (!_stop.IsCancellationRequested) Abandon();
            try
            {
                _consumer.Close();
            }
            catch (KafkaException)
            {
            }
            _consumer.Dispose();
        }
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    private static async Task ProduceAsync(string bootstrap, string topic, int from, int count) =>
        await RestartTests.ProduceAsync(bootstrap, topic, Enumerable.Range(from, count).Select(i => ("k" + i, "v" + i)));

    [Theory]
    [InlineData(PartitionAssignmentStrategy.Range)]
    [InlineData(PartitionAssignmentStrategy.RoundRobin)]
    [InlineData(PartitionAssignmentStrategy.CooperativeSticky)]
    public async Task Three_members_share_six_partitions_exactly_once_through_join_and_departure(PartitionAssignmentStrategy strategy)
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        string topic = "cg-" + strategy.ToString().ToLowerInvariant();
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 6);
        await ProduceAsync(broker.BootstrapServers, topic, 0, 600);
        var own = new Ownership();
        var members = Enumerable.Range(0, 3).Select(i => new Member("m" + i, broker.BootstrapServers, "g", topic, own, strategy)).ToList();
        try
        {
            await WaitUntil(() => members.All(m => own.Owned(m.Name) == 2), TimeSpan.FromSeconds(30), "2 partitions each");
            await WaitUntil(() => own.Consumed.Count == 600, TimeSpan.FromSeconds(30), "600 records");

            // A fourth member joins: a rebalance gives it partitions.
            members.Add(new Member("m3", broker.BootstrapServers, "g", topic, own, strategy));
            await WaitUntil(() => own.Owned("m3") > 0 && members.Sum(m => own.Owned(m.Name)) == 6, TimeSpan.FromSeconds(30), "m3 assigned");
            await ProduceAsync(broker.BootstrapServers, topic, 600, 300);
            await WaitUntil(() => own.Consumed.Count == 900, TimeSpan.FromSeconds(30), "900 records");

            // m0 stops polling without leaving: its partitions move to the others.
            members[0].Abandon();
            own.Forget("m0");
            await WaitUntil(() => members.Skip(1).Sum(m => own.Owned(m.Name)) == 6, TimeSpan.FromSeconds(40), "m0's partitions moved");
            await ProduceAsync(broker.BootstrapServers, topic, 900, 300);
            await WaitUntil(() => own.Consumed.Count == 1200, TimeSpan.FromSeconds(30), "1200 records");
            Assert.Empty(own.Violations);
            Assert.All(own.Consumed.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            Parallel.ForEach(members, m => m.Dispose());
        }
    }

    [Fact]
    public async Task Two_groups_each_read_everything()
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, "two", 4);
        await ProduceAsync(broker.BootstrapServers, "two", 0, 400);
        var a = new Ownership();
        var b = new Ownership();
        var members = new List<Member>
        {
            new("a0", broker.BootstrapServers, "ga", "two", a), new("a1", broker.BootstrapServers, "ga", "two", a),
            new("b0", broker.BootstrapServers, "gb", "two", b),
        };
        try
        {
            await WaitUntil(() => a.Consumed.Count == 400 && b.Consumed.Count == 400, TimeSpan.FromSeconds(30), "both groups");
            Assert.All(a.Consumed.Values.Concat(b.Consumed.Values), n => Assert.Equal(1, n));
        }
        finally
        {
            Parallel.ForEach(members, m => m.Dispose());
        }
    }

    [Fact]
    public async Task Committed_offsets_survive_restart_and_consumers_resume_without_redelivery()
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, "rs", 3);
        await ProduceAsync(broker.BootstrapServers, "rs", 0, 300);
        var own = new Ownership();
        using (var m = new Member("m", broker.BootstrapServers, "rg", "rs", own))
            await WaitUntil(() => own.Consumed.Count == 300, TimeSpan.FromSeconds(30), "300 records");

        await broker.RestartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            var offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("rg", null)]);
            Assert.Equal(300, offsets[0].Partitions.Sum(p => p.Offset.Value));
        }
        await ProduceAsync(broker.BootstrapServers, "rs", 300, 100);
        using (var m = new Member("m2", broker.BootstrapServers, "rg", "rs", own))
            await WaitUntil(() => own.Consumed.Count == 400, TimeSpan.FromSeconds(30), "100 more records");
        Assert.All(own.Consumed.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Static_member_restarting_within_session_timeout_keeps_its_partitions_without_rebalance()
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, "st", 4);
        var own = new Ownership();
        var s0 = new Member("s0", broker.BootstrapServers, "sg", "st", own, instanceId: "i0");
        var s1 = new Member("s1", broker.BootstrapServers, "sg", "st", own, instanceId: "i1");
        try
        {
            await WaitUntil(() => own.Owned("s0") == 2 && own.Owned("s1") == 2, TimeSpan.FromSeconds(30), "2 partitions each");
            int before = own.Rebalances;
            s1.Dispose(); // a static member does not leave the group on close
            own.Forget("s1");
            s1 = new Member("s1", broker.BootstrapServers, "sg", "st", own, instanceId: "i1");
            await WaitUntil(() => own.Owned("s1") == 2, TimeSpan.FromSeconds(10), "s1 back with its partitions");
            await Task.Delay(2000); // heartbeats of s0 would have seen a rebalance by now
            Assert.Equal(before + 1, own.Rebalances); // only s1's own assignment
            Assert.Equal(2, own.Owned("s0"));
            Assert.Empty(own.Violations);
        }
        finally
        {
            s0.Dispose();
            s1.Dispose();
        }
    }
}
