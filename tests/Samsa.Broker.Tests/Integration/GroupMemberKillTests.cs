using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// A classic-protocol member killed with SIGKILL sends no LeaveGroup and no more heartbeats: the coordinator must
/// notice by session.timeout.ms alone and hand its partitions to the surviving member.
/// </summary>
public sealed class GroupMemberKillTests
{
    private const string Topic = "kill-member";
    private const string Group = "kill-group";

    [Fact]
    public async Task Partitions_of_a_killed_member_move_to_the_survivor_after_the_session_timeout()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["offsets.topic.num.partitions"] = "2" });
        await BadInputHelpers.CreateTopicAsync(broker, Topic, partitions: 4);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();

        // Member 1: the real `samsa consume` in its own process.
        using var child = StartConsumerProcess(broker.BootstrapServers);
        try
        {
            Assert.True(await WaitForAsync(async () => (await DescribeAsync(admin)).Members.Count == 1, TimeSpan.FromSeconds(60)),
                "the child consumer never joined");

            // Member 2: in-process; the group rebalances to 2 + 2.
            var owned = new HashSet<int>();
            var ownedLock = new object();
            var config = new ConsumerConfig
            {
                BootstrapServers = broker.BootstrapServers, GroupId = Group, AutoOffsetReset = AutoOffsetReset.Earliest,
                SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500, EnableAutoCommit = true, AutoCommitIntervalMs = 200,
            };
            using var survivor = new ConsumerBuilder<string, string>(config)
                .SetPartitionsAssignedHandler((_, ps) => { lock (ownedLock) foreach (var p in ps) owned.Add(p.Partition.Value); })
                .SetPartitionsRevokedHandler((_, ps) => { lock (ownedLock) foreach (var p in ps) owned.Remove(p.Partition.Value); })
                .Build();
            survivor.Subscribe(Topic);
            var received = new HashSet<string>();
            bool Poll(TimeSpan until)
            {
                var deadline = DateTime.UtcNow + until;
                while (DateTime.UtcNow < deadline)
                {
                    var r = survivor.Consume(TimeSpan.FromMilliseconds(100));
                    if (r is { IsPartitionEOF: false, Message: not null }) received.Add(r.Message.Value);
                    lock (ownedLock) if (owned.Count == 4) return true;
                }
                return false;
            }
            var split = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < split)
            {
                Poll(TimeSpan.FromMilliseconds(300));
                var d = await DescribeAsync(admin);
                if (d.Members.Count == 2 && d.Members.All(m => m.Assignment.TopicPartitions.Count == 2)) break;
            }
            lock (ownedLock) Assert.Equal(2, owned.Count);

            // SIGKILL: no LeaveGroup. The survivor gets everything only once the session times out.
            var killed = Stopwatch.StartNew();
            child.Kill(entireProcessTree: true);
            Assert.True(Poll(TimeSpan.FromSeconds(60)), "the killed member's partitions never moved");
            killed.Stop();
            Assert.True(killed.Elapsed >= TimeSpan.FromSeconds(3), $"moved after {killed.Elapsed}: that was not a session expiry");

            // And it consumes new records from all four partitions.
            using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
                for (int p = 0; p < 4; p++)
                    await producer.ProduceAsync(new TopicPartition(Topic, p), new Message<string, string> { Key = "k", Value = "after-" + p });
            var all = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < all && Enumerable.Range(0, 4).Any(p => !received.Contains("after-" + p)))
            {
                var r = survivor.Consume(TimeSpan.FromMilliseconds(200));
                if (r is { IsPartitionEOF: false, Message: not null }) received.Add(r.Message.Value);
            }
            Assert.All(Enumerable.Range(0, 4), p => Assert.Contains("after-" + p, received));
            survivor.Close();
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }
    }

    private static Process StartConsumerProcess(string bootstrap)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "consume", Topic, "--group", Group, "--follow", "-q", "-b", bootstrap,
                     "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500" })
            info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<ConsumerGroupDescription> DescribeAsync(IAdminClient admin) =>
        (await admin.DescribeConsumerGroupsAsync([Group])).ConsumerGroupDescriptions[0];

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return true;
            }
            catch (KafkaException)
            {
            }
            await Task.Delay(200);
        }
        return false;
    }
}
