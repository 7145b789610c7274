using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// KIP-848 consumer groups end to end with librdkafka (group.protocol=consumer): server-side assignment,
/// incremental reconciliation (no partition owned twice), commits with member epochs, leave, join, expiry, restart.
/// librdkafka rejects session.timeout.ms, heartbeat.interval.ms and partition.assignment.strategy with this
/// protocol, so the broker's group.consumer.* settings make the test fast.
/// </summary>
public sealed class ConsumerProtocolGroupTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string> Overrides = new()
    {
        ["offsets.topic.num.partitions"] = "4",
        ["group.consumer.heartbeat.interval.ms"] = "200",
        ["group.consumer.session.timeout.ms"] = "3000",
    };

    /// <summary>A consumer polling on its own thread; each record is committed synchronously before it counts.</summary>
    private sealed class Member : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private readonly IConsumer<string, string> _consumer;

        public Member(string name, string bootstrap, string group, string topic, Ownership ownership, string? assignor = null)
        {
            Name = name;
            var config = new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = group, GroupProtocol = GroupProtocol.Consumer,
                AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false, GroupRemoteAssignor = assignor,
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
                    catch (KafkaException e)
                    {
                        // A commit rejected (stale epoch while the partition moves): the record is not counted. The
                        // position already moved past it and incremental assignment keeps positions of retained
                        // partitions, so seek back to consume it again (a moved partition restarts from its commit).
                        ownership.Errors.Enqueue(name + ": " + e.Error);
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

        /// <summary>Stops polling and heartbeating without leaving the group (the broker must notice on its own).</summary>
        public void Abandon()
        {
            _stop.Cancel();
            _thread.Join();
            _consumer.Dispose();
        }

        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            _thread.Join();
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
    [InlineData(null)]
    [InlineData("range")]
    public async Task Three_members_share_six_partitions_exactly_once_through_leave_join_and_expiry(string? assignor)
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        string topic = "kip848-" + (assignor ?? "uniform");
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 6);
        await ProduceAsync(broker.BootstrapServers, topic, 0, 600);
        var own = new Ownership();
        var members = Enumerable.Range(0, 3).Select(i => new Member("m" + i, broker.BootstrapServers, "g", topic, own, assignor)).ToList();
        try
        {
            await WaitUntil(() => members.All(m => own.Owned(m.Name) == 2), Timeout, "2 partitions each");
            await WaitUntil(() => own.Consumed.Count == 600, Timeout, "600 records");

            // m2 leaves (epoch -1): its partitions move to m0 and m1.
            members[2].Dispose();
            own.Forget("m2");
            await WaitUntil(() => own.Owned("m0") == 3 && own.Owned("m1") == 3, Timeout, "m2's partitions moved");
            await ProduceAsync(broker.BootstrapServers, topic, 600, 300);
            await WaitUntil(() => own.Consumed.Count == 900, Timeout, "900 records");

            // m3 joins: the others revoke before it gets partitions.
            members.Add(new Member("m3", broker.BootstrapServers, "g", topic, own, assignor));
            await WaitUntil(() => own.Owned("m3") == 2 && own.Owned("m0") == 2 && own.Owned("m1") == 2, Timeout, "m3 assigned");
            await ProduceAsync(broker.BootstrapServers, topic, 900, 300);
            await WaitUntil(() => own.Consumed.Count == 1200, Timeout, "1200 records");

            // m0 stops heartbeating: after the session timeout its partitions move.
            members[0].Abandon();
            own.Forget("m0");
            await WaitUntil(() => own.Owned("m1") == 3 && own.Owned("m3") == 3, Timeout, "m0's partitions moved after session timeout");
            await ProduceAsync(broker.BootstrapServers, topic, 1200, 300);
            await WaitUntil(() => own.Consumed.Count == 1500, Timeout, "1500 records");

            Assert.Empty(own.Violations);
            Assert.All(own.Consumed.Values, n => Assert.Equal(1, n));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} (consumed {own.Consumed.Count})\nClient errors:\n{string.Join("\n", own.Errors.Take(20))}\nBroker:\n" +
                string.Join("\n", broker.Logs.Lines.Where(l => l.Contains("consumer group", StringComparison.Ordinal)).TakeLast(30)), e);
        }
        finally
        {
            Parallel.ForEach(members, m => m.Dispose());
        }
    }

    [Fact]
    public async Task Committed_offsets_and_group_survive_restart()
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, "kip848-rs", 3);
        await ProduceAsync(broker.BootstrapServers, "kip848-rs", 0, 300);
        var own = new Ownership();
        using (new Member("m", broker.BootstrapServers, "rg", "kip848-rs", own))
            await WaitUntil(() => own.Consumed.Count == 300, Timeout, "300 records");

        await broker.RestartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            // Right after a restart the coordinator may still be loading __consumer_offsets (a retriable error).
            List<Confluent.Kafka.Admin.ListConsumerGroupOffsetsResult>? offsets = null;
            var deadline = DateTime.UtcNow + Timeout;
            while (offsets is null)
            {
                try
                {
                    offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("rg", null)]);
                }
                catch (KafkaException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100);
                }
            }
            Assert.Equal(300, offsets[0].Partitions.Sum(p => p.Offset.Value));
            var listed = await admin.ListConsumerGroupsAsync();
            Assert.Contains(listed.Valid, g => g.GroupId == "rg" && g.Type == ConsumerGroupType.Consumer);
        }
        await ProduceAsync(broker.BootstrapServers, "kip848-rs", 300, 100);
        own.Forget("m");
        using (new Member("m2", broker.BootstrapServers, "rg", "kip848-rs", own))
            await WaitUntil(() => own.Consumed.Count == 400, Timeout, "100 more records");
        Assert.All(own.Consumed.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Describe_shows_consumer_group_members_and_assignments()
    {
        await using var broker = await TestBroker.StartAsync(Overrides);
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, "kip848-d", 4);
        var own = new Ownership();
        using var a = new Member("a", broker.BootstrapServers, "dg", "kip848-d", own);
        using var b = new Member("b", broker.BootstrapServers, "dg", "kip848-d", own);
        await WaitUntil(() => own.Owned("a") == 2 && own.Owned("b") == 2, Timeout, "2 partitions each");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        Confluent.Kafka.Admin.ConsumerGroupDescription? group = null;
        await WaitUntil(() =>
        {
            group = admin.DescribeConsumerGroupsAsync(["dg"]).GetAwaiter().GetResult().ConsumerGroupDescriptions[0];
            return group.State == ConsumerGroupState.Stable;
        }, Timeout, "Stable");
        Assert.Equal(2, group!.Members.Count);
        Assert.Equal(4, group.Members.Sum(m => m.Assignment.TopicPartitions.Count));
        Assert.All(group.Members, m => Assert.All(m.Assignment.TopicPartitions, tp => Assert.Equal("kip848-d", tp.Topic)));
    }
}
