using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Commands;

namespace Samsa.Cli.Tests;

/// <summary>
/// `samsa cluster rebalance` / `samsa cluster reassignments` against a real node, and the rebalance planner's
/// arithmetic (even replicas and preferred leaders, few moves). Moving replicas between real nodes is shown in
/// Samsa.Cluster.Tests/ScaleOutTests.
/// </summary>
public sealed class RebalanceCommandTests(ITestOutputHelper output)
{
    private async Task<SamsaCli.Result> Run(params string[] args)
    {
        var result = await SamsaCli.RunAsync(args);
        output.WriteLine($"$ samsa {string.Join(' ', args)}\n{result}");
        return result;
    }

    [Fact]
    public async Task On_a_single_node_there_is_nothing_to_move_and_no_reassignment_in_progress()
    {
        await using var broker = await TestBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "one", NumPartitions = 3, ReplicationFactor = 1 }]);

        var plan = await Run("cluster", "rebalance", "-b", broker.BootstrapServers, "--topics", "one", "-o", "json");
        Assert.Equal(0, plan.ExitCode);
        using (var json = JsonDocument.Parse(plan.Stdout))
        {
            Assert.Equal(0, json.RootElement.GetProperty("replicaMoves").GetInt32());
            Assert.Equal(0, json.RootElement.GetProperty("partitions").GetArrayLength());
            Assert.False(json.RootElement.GetProperty("submitted").GetBoolean());
        }

        var table = await Run("cluster", "reassignments", "-b", broker.BootstrapServers);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("No reassignment in progress.", table.Stdout);
        var list = await Run("cluster", "reassignments", "-b", broker.BootstrapServers, "-o", "json");
        Assert.Equal("[]", list.Stdout.Trim());

        var missing = await Run("cluster", "rebalance", "-b", broker.BootstrapServers, "--topics", "nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("Topic 'nope' does not exist", missing.Stderr);
    }

    [Fact]
    public void A_new_broker_gets_an_even_share_with_the_fewest_moves()
    {
        // 6 partitions with RF 3 on brokers 1-3 (18 replicas, each leads 2); broker 4 joins empty.
        var current = new Dictionary<(string, int), int[]>();
        for (int p = 0; p < 6; p++) current[("t", p)] = [p % 3 + 1, (p + 1) % 3 + 1, (p + 2) % 3 + 1];
        var brokers = new Dictionary<int, string?> { [1] = null, [2] = null, [3] = null, [4] = null };
        var plan = RebalancePlanner.Compute(current, brokers);

        var after = current.ToDictionary(kv => kv.Key, kv => plan.Changes.GetValueOrDefault(kv.Key) ?? kv.Value);
        var load = after.Values.SelectMany(r => r).GroupBy(b => b).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([4, 4, 5, 5], load.Values.Order());             // 18 over 4: two with 5, two with 4
        Assert.Equal(4, plan.ReplicaMoves);                           // exactly the replicas broker 4 must take
        int moved = after.Sum(kv => kv.Value.Count(b => !current[kv.Key].Contains(b)));
        Assert.Equal(plan.ReplicaMoves, moved);
        Assert.All(after.Values, r => Assert.Equal(3, r.Distinct().Count()));
        var leaders = after.Values.GroupBy(r => r[0]).Select(g => g.Count()).ToList();
        Assert.True(leaders.Max() - leaders.Min() <= 1, string.Join(",", leaders));
        Assert.Equal(4, leaders.Count);

        // Balanced already: no change.
        var again = RebalancePlanner.Compute(after, brokers);
        Assert.Empty(again.Changes);
    }

    [Fact]
    public void Moves_prefer_keeping_replicas_on_distinct_racks()
    {
        // Brokers 1,2 on rack a, 3 on rack b, new broker 4 on rack b. Partitions on [1,3] and [2,3].
        var current = new Dictionary<(string, int), int[]> { [("t", 0)] = [1, 3], [("t", 1)] = [3, 2], [("t", 2)] = [1, 3], [("t", 3)] = [3, 2] };
        var brokers = new Dictionary<int, string?> { [1] = "a", [2] = "a", [3] = "b", [4] = "b" };
        var plan = RebalancePlanner.Compute(current, brokers);
        var after = current.ToDictionary(kv => kv.Key, kv => plan.Changes.GetValueOrDefault(kv.Key) ?? kv.Value);
        Assert.All(after.Values, r => Assert.Equal(2, r.Select(b => brokers[b]).Distinct().Count()));
        Assert.Equal(2, after.Values.Count(r => r.Contains(4)));
    }
}
