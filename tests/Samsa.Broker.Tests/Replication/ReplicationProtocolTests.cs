using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Network.InterBroker;
using Samsa.Broker.Tests.Integration;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Replication;

/// <summary>
/// Wire-level behaviour of replicated partitions (leader-only service, leader epochs, OffsetForLeaderEpoch, acks=all
/// timeouts), with raw requests over the inter-broker client against three in-process nodes.
/// </summary>
public sealed class ReplicationProtocolTests
{
    private static BrokerChannel Channel(InProcessCluster cluster, int node)
    {
        var endpoint = new BrokerEndpoint("PLAINTEXT", "127.0.0.1", cluster.Nodes[node].Port, "PLAINTEXT");
        return new BrokerChannel(node, () => endpoint, PlaintextConnectionFactory.Instance, new BrokerChannelOptions(), NullLogger.Instance);
    }

    private static async Task ProduceAsync(BrokerChannel channel, string topic, int records, short acks = -1)
    {
        var response = await channel.SendAsync<ProduceRequest, ProduceResponse>(BadInputHelpers.ProduceRequest(topic, 0, BadInputHelpers.Batch(records), acks), 9);
        Assert.Equal(0, response.Responses[0].PartitionResponses[0].ErrorCode);
    }

    private static FetchRequest ConsumerFetch(string topic, long offset, int currentLeaderEpoch = -1) => new()
    {
        MaxWaitMs = 0, MinBytes = 0, SessionEpoch = -1,
        Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, FetchOffset = offset, PartitionMaxBytes = 1 << 20, CurrentLeaderEpoch = currentLeaderEpoch }] }],
    };

    private static ListOffsetsRequest Latest(string topic, int currentLeaderEpoch = -1) => new()
    {
        ReplicaId = -1,
        Topics = [new() { Name = topic, Partitions = [new() { PartitionIndex = 0, Timestamp = -1, CurrentLeaderEpoch = currentLeaderEpoch }] }],
    };

    private static OffsetForLeaderEpochRequest EpochQuery(string topic, int epoch, int currentLeaderEpoch = -1) => new()
    {
        ReplicaId = -1,
        Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, LeaderEpoch = epoch, CurrentLeaderEpoch = currentLeaderEpoch }] }],
    };

    [Fact]
    public async Task Only_the_leader_serves_clients_and_leader_epochs_fence_stale_requests()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.CreateTopicAsync("epochs", [1, 2, 3], minInsyncReplicas: 2);
        await using var one = Channel(cluster, 1);
        await using var two = Channel(cluster, 2);
        await ProduceAsync(one, "epochs", 5);

        // Followers refuse consumers, producers and offset lookups.
        var fetch = await two.SendAsync<FetchRequest, FetchResponse>(ConsumerFetch("epochs", 0), 12);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, fetch.Responses[0].Partitions[0].ErrorCode);
        var produce = await two.SendAsync<ProduceRequest, ProduceResponse>(BadInputHelpers.ProduceRequest("epochs", 0, BadInputHelpers.Batch()), 9);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, produce.Responses[0].PartitionResponses[0].ErrorCode);
        var offsets = await two.SendAsync<ListOffsetsRequest, ListOffsetsResponse>(Latest("epochs"), 7);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, offsets.Topics[0].Partitions[0].ErrorCode);
        var epochs = await two.SendAsync<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(EpochQuery("epochs", 0), 4);
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, epochs.Topics[0].Partitions[0].ErrorCode);

        // The controller moves leadership to 2 (leader epoch 1); 2 takes writes in epoch 1.
        var topicId = cluster.Metadata.Image.Topic("epochs")!.TopicId;
        await cluster.Metadata.AppendAsync([new PartitionChangeRecord(topicId, 0, 2, null, null)]);
        await ProduceAsync(two, "epochs", 3);

        // A request in the old epoch is fenced, one from the future is unknown; the current one is served.
        var fenced = await two.SendAsync<FetchRequest, FetchResponse>(ConsumerFetch("epochs", 0, currentLeaderEpoch: 0), 12);
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, fenced.Responses[0].Partitions[0].ErrorCode);
        var unknown = await two.SendAsync<FetchRequest, FetchResponse>(ConsumerFetch("epochs", 0, currentLeaderEpoch: 2), 12);
        Assert.Equal((short)ErrorCode.UnknownLeaderEpoch, unknown.Responses[0].Partitions[0].ErrorCode);
        var current = await two.SendAsync<FetchRequest, FetchResponse>(ConsumerFetch("epochs", 0, currentLeaderEpoch: 1), 12);
        Assert.Equal(0, current.Responses[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, (await two.SendAsync<ListOffsetsRequest, ListOffsetsResponse>(Latest("epochs", 0), 7)).Topics[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownLeaderEpoch, (await two.SendAsync<ListOffsetsRequest, ListOffsetsResponse>(Latest("epochs", 5), 7)).Topics[0].Partitions[0].ErrorCode);
        var latest = await two.SendAsync<ListOffsetsRequest, ListOffsetsResponse>(Latest("epochs", 1), 7);
        Assert.Equal(8, latest.Topics[0].Partitions[0].Offset);
        Assert.Equal(1, latest.Topics[0].Partitions[0].LeaderEpoch);
        // The old leader is a follower now.
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, (await one.SendAsync<FetchRequest, FetchResponse>(ConsumerFetch("epochs", 0), 12)).Responses[0].Partitions[0].ErrorCode);

        // OffsetForLeaderEpoch: epoch 0 ended where epoch 1 started (5), epoch 1 is the latest (ends at the log end),
        // an unknown newer epoch is undefined; a stale current epoch is fenced.
        async Task<OffsetForLeaderEpochResponse.EpochEndOffset> Query(int epoch, int currentLeaderEpoch = -1) =>
            (await two.SendAsync<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(EpochQuery("epochs", epoch, currentLeaderEpoch), 4)).Topics[0].Partitions[0];
        var e0 = await Query(0);
        Assert.Equal((0, 0, 5L), (e0.ErrorCode, e0.LeaderEpoch, e0.EndOffset));
        var e1 = await Query(1, currentLeaderEpoch: 1);
        Assert.Equal((0, 1, 8L), (e1.ErrorCode, e1.LeaderEpoch, e1.EndOffset));
        var e7 = await Query(7);
        Assert.Equal((0, -1, -1L), (e7.ErrorCode, e7.LeaderEpoch, e7.EndOffset));
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, (await Query(0, currentLeaderEpoch: 0)).ErrorCode);
        // Every replica ends up with both epochs in its history.
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionOn(3, "epochs")!.Log.LogEndOffset == 8, "replica 3 copies epoch 1");
        await InProcessCluster.WaitUntilAsync(() => cluster.PartitionOn(1, "epochs")!.Log.LogEndOffset == 8, "replica 1 copies epoch 1");
        Assert.Equal([(0, 0L), (1, 5L)], cluster.PartitionOn(3, "epochs")!.Log.LeaderEpochs);
        Assert.Equal([(0, 0L), (1, 5L)], cluster.PartitionOn(1, "epochs")!.Log.LeaderEpochs);
    }

    [Fact]
    public async Task Acks_all_times_out_while_an_isr_member_does_not_confirm_and_the_record_stays_invisible()
    {
        await using var cluster = await InProcessCluster.StartAsync(3); // replica.lag.time.max.ms 30 s: 3 stays in the ISR
        await cluster.CreateTopicAsync("slow", [1, 2, 3], minInsyncReplicas: 2);
        await using var one = Channel(cluster, 1);
        await ProduceAsync(one, "slow", 2);
        await cluster.StopNodeAsync(3);

        var request = BadInputHelpers.ProduceRequest("slow", 0, BadInputHelpers.Batch(), acks: -1);
        request.TimeoutMs = 300;
        var response = await one.SendAsync<ProduceRequest, ProduceResponse>(request, 9);
        Assert.Equal((short)ErrorCode.RequestTimedOut, response.Responses[0].PartitionResponses[0].ErrorCode);
        var leader = cluster.PartitionOn(1, "slow")!;
        Assert.Equal(3, leader.Log.LogEndOffset); // appended on the leader (and on 2) ...
        Assert.Equal(2, leader.HighWatermark);    // ... but not committed: 3 has not confirmed it
        var fetch = await one.SendAsync<FetchRequest, FetchResponse>(ConsumerFetch("slow", 2), 12);
        Assert.Equal(0, fetch.Responses[0].Partitions[0].ErrorCode);
        Assert.Equal(0, fetch.Responses[0].Partitions[0].Records!.Value.Length);
        Assert.Equal(2, fetch.Responses[0].Partitions[0].HighWatermark);

        // acks=1 is answered after the leader's own fsync.
        await ProduceAsync(one, "slow", 1, acks: 1);
        Assert.Equal(4, leader.Log.FlushedOffset);
    }

    [Fact]
    public async Task A_follower_fetch_from_a_broker_outside_the_replica_set_or_in_a_stale_epoch_is_refused()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.CreateTopicAsync("pair", [1, 2], minInsyncReplicas: 1);
        await using var one = Channel(cluster, 1);
        await ProduceAsync(one, "pair", 4);
        var topicId = cluster.Metadata.Image.Topic("pair")!.TopicId;
        FetchRequest ReplicaFetch(int replica, int epoch) => new()
        {
            ReplicaState = new() { ReplicaId = replica }, MaxWaitMs = 0, MinBytes = 0, SessionEpoch = -1,
            Topics = [new() { TopicId = topicId, Partitions = [new() { Partition = 0, FetchOffset = 0, CurrentLeaderEpoch = epoch, PartitionMaxBytes = 1 << 20 }] }],
        };
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower,
            (await one.SendAsync<FetchRequest, FetchResponse>(ReplicaFetch(3, 0), 16)).Responses[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownLeaderEpoch,
            (await one.SendAsync<FetchRequest, FetchResponse>(ReplicaFetch(2, 1), 16)).Responses[0].Partitions[0].ErrorCode);
        var ok = (await one.SendAsync<FetchRequest, FetchResponse>(ReplicaFetch(2, 0), 16)).Responses[0].Partitions[0];
        Assert.Equal(0, ok.ErrorCode);
        Assert.True(ok.Records!.Value.Length > 0); // followers read past the high watermark, up to the log end
        Assert.Equal(1, ok.CurrentLeader.LeaderId);
    }
}
