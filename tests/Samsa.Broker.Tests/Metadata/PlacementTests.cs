using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Tests.Replication;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Metadata;

/// <summary>Rack-aware replica placement for CreateTopics/CreatePartitions, and preferred/unclean leader election.</summary>
public sealed class PlacementTests
{
    [Theory]
    [InlineData(6, 3, 3, 60)]   // 6 brokers on 3 racks
    [InlineData(4, 2, 2, 40)]   // 4 brokers on 2 racks
    [InlineData(5, 3, 2, 50)]   // uneven racks (2, 2, 1)
    [InlineData(3, 1, 3, 30)]   // no racks at all: one unnamed rack
    public void Replicas_land_on_distinct_racks_and_leaders_spread_evenly(int brokers, int racks, int rf, int partitions)
    {
        var brokerRacks = Enumerable.Range(1, brokers).ToDictionary(b => b, b => racks == 1 ? null : $"rack-{b % racks}");
        for (int seed = 0; seed < 20; seed++)
        {
            var placement = ReplicaPlacer.Place(brokerRacks, 0, partitions, rf, new Random(seed));
            Assert.Equal(partitions, placement.Length);
            foreach (var replicas in placement)
            {
                Assert.Equal(rf, replicas.Length);
                Assert.Equal(rf, replicas.Distinct().Count());
                int distinctRacks = replicas.Select(r => brokerRacks[r] ?? "").Distinct().Count();
                Assert.Equal(Math.Min(rf, racks), distinctRacks);
            }
            var leaders = placement.GroupBy(r => r[0]).Select(g => g.Count()).ToList();
            Assert.Equal(brokers, leaders.Count);
            Assert.True(leaders.Max() - leaders.Min() <= 1, $"leaders per broker {string.Join(",", leaders)}");
            var load = placement.SelectMany(r => r).GroupBy(b => b).Select(g => g.Count()).ToList();
            Assert.Equal(brokers, load.Count);
            // Replicas per broker stay close to even (uneven racks force some skew: a lone rack gets more).
            Assert.True(load.Max() <= 2 * load.Min(), $"replicas per broker {string.Join(",", load)}");
        }
    }

    [Fact]
    public async Task CreateTopics_and_CreatePartitions_place_across_racks_of_live_brokers()
    {
        var log = new InMemoryMetadataLog();
        var controller = new Controller(log, -1, NullLogger.Instance);
        for (int id = 1; id <= 4; id++)
            await controller.RegisterBrokerAsync(new RegisterBrokerRecord(id, [new BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9000 + id, "PLAINTEXT")],
                id <= 2 ? "east" : "west", Guid.NewGuid()));
        var created = await controller.CreateTopicAsync(new CreateTopicSpec("t", 4, 2, null, new Dictionary<string, string?>()), validateOnly: false);
        Assert.True(created.Result.IsOk);
        Assert.Equal(ErrorCode.None, (await controller.CreatePartitionsAsync("t", 8, null, validateOnly: false)).Error);
        var partitions = log.Image.Topic("t")!.Partitions;
        Assert.Equal(8, partitions.Length);
        foreach (var p in partitions)
        {
            Assert.Contains(p.Replicas, r => r <= 2);
            Assert.Contains(p.Replicas, r => r > 2);
            Assert.Equal(p.Replicas[0], p.Leader);
        }
        Assert.Equal(4, partitions.Select(p => p.Leader).Distinct().Count());
    }

    [Fact]
    public async Task Preferred_election_restores_the_first_replica_only_when_it_is_live_and_in_sync()
    {
        var log = new InMemoryMetadataLog();
        var controller = new Controller(log, -1, NullLogger.Instance);
        for (int id = 1; id <= 3; id++)
            await controller.RegisterBrokerAsync(new RegisterBrokerRecord(id, [new BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9000 + id, "PLAINTEXT")], null, Guid.NewGuid()));
        var created = await controller.CreateTopicAsync(new CreateTopicSpec("t", 1, 3,
            new Dictionary<int, int[]> { [0] = [1, 2, 3] }, new Dictionary<string, string?>()), validateOnly: false);
        var topicId = created.Topic!.TopicId;
        Assert.Equal(ErrorCode.ElectionNotNeeded, (await controller.ElectLeadersAsync([("t", 0)], unclean: false))[0].Error);

        await controller.FenceAsync(1, controlledShutdown: false, _ => false);
        Assert.Equal(2, log.Image.Topic("t")!.Partitions[0].Leader);
        Assert.Equal(ErrorCode.PreferredLeaderNotAvailable, (await controller.ElectLeadersAsync([("t", 0)], unclean: false))[0].Error);

        // 1 returns and catches up (unfenced, back in the ISR): the election moves leadership back with an epoch bump.
        await controller.UnfenceAsync(1);
        var p = log.Image.Topic("t")!.Partitions[0];
        await controller.AlterPartitionAsync(new AlterPartitionSpec(2, topicId, 0, p.LeaderEpoch, p.PartitionEpoch, [1, 2, 3]));
        int epoch = log.Image.Topic("t")!.Partitions[0].LeaderEpoch;
        var elected = await controller.ElectLeadersAsync([("t", 0), ("t", 7)], unclean: false);
        Assert.Equal([ErrorCode.None, ErrorCode.UnknownTopicOrPartition], elected.Select(r => r.Error));
        Assert.Equal((1, epoch + 1), (log.Image.Topic("t")!.Partitions[0].Leader, log.Image.Topic("t")!.Partitions[0].LeaderEpoch));

        // Unclean: only for a leaderless partition, and only with a live replica.
        Assert.Equal(ErrorCode.ElectionNotNeeded, (await controller.ElectLeadersAsync([("t", 0)], unclean: true))[0].Error);
        await controller.FenceAsync(2, false, _ => false);
        await controller.FenceAsync(3, false, _ => false);
        await controller.FenceAsync(1, false, _ => false);
        Assert.Equal(-1, log.Image.Topic("t")!.Partitions[0].Leader);
        Assert.Equal(ErrorCode.EligibleLeadersNotAvailable, (await controller.ElectLeadersAsync([("t", 0)], unclean: true))[0].Error);
        await controller.UnfenceAsync(3);
        Assert.Equal(ErrorCode.None, (await controller.ElectLeadersAsync([("t", 0)], unclean: true))[0].Error);
        Assert.Equal(3, log.Image.Topic("t")!.Partitions[0].Leader);
    }
}
