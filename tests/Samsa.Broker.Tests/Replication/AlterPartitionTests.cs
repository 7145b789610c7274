using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Replication;

/// <summary>The controller's validation of ISR changes (Kafka's ReplicationControlManager.alterPartition).</summary>
public sealed class AlterPartitionTests
{
    private static async Task<(Controller Controller, InMemoryMetadataLog Log, Guid TopicId)> SetupAsync(int[] replicas, params int[] registered)
    {
        var log = new InMemoryMetadataLog();
        var controller = new Controller(log, -1, NullLogger.Instance);
        foreach (int id in registered)
            await controller.RegisterBrokerAsync(new RegisterBrokerRecord(id, [new BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9000 + id, "PLAINTEXT")], null, Guid.NewGuid()));
        var created = await controller.CreateTopicAsync(new CreateTopicSpec("t", 1, 1,
            new Dictionary<int, int[]> { [0] = replicas }, new Dictionary<string, string?>()), validateOnly: false);
        Assert.True(created.Result.IsOk, created.Result.Message);
        return (controller, log, created.Topic!.TopicId);
    }

    [Fact]
    public async Task A_valid_shrink_and_expand_commit_and_bump_the_partition_epoch_only()
    {
        var (controller, log, topicId) = await SetupAsync([1, 2, 3], 1, 2, 3);
        var shrunk = await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, 0, [1, 2]));
        Assert.Equal(ErrorCode.None, shrunk.Error);
        Assert.Equal([1, 2], shrunk.Partition!.Isr);
        Assert.Equal(1, shrunk.Partition.PartitionEpoch);
        Assert.Equal(0, shrunk.Partition.LeaderEpoch);
        Assert.Equal(shrunk.Partition, log.Image.Topic("t")!.Partitions[0]);

        var expanded = await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, 1, [3, 1, 2]));
        Assert.Equal(ErrorCode.None, expanded.Error);
        Assert.Equal([1, 2, 3], expanded.Partition!.Isr); // replica order
        Assert.Equal(2, expanded.Partition.PartitionEpoch);

        long offset = log.Image.Offset;
        var same = await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, 2, [1, 2, 3]));
        Assert.Equal(ErrorCode.None, same.Error);
        Assert.Equal(offset, log.Image.Offset); // no write for no change
    }

    [Fact]
    public async Task Stale_or_invalid_requests_are_refused_without_a_write()
    {
        var (controller, log, _) = await SetupAsync([1, 2, 3], 1, 2, 3);
        // A partition with a replica on broker 4, which is not registered (records written as the controller would).
        var topicId = Guid.NewGuid();
        await log.AppendAsync([new TopicRecord("u", topicId), new PartitionRecord(topicId, 0, [1, 2, 3, 4], [1, 2, 3, 4], 1, 0, 0)]);
        Assert.Equal(ErrorCode.None, (await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, 0, [1, 2, 3]))).Error);
        long offset = log.Image.Offset;

        async Task<ErrorCode> Alter(int broker, int leaderEpoch, int partitionEpoch, int[] isr, Guid? topic = null, int partition = 0) =>
            (await controller.AlterPartitionAsync(new AlterPartitionSpec(broker, topic ?? topicId, partition, leaderEpoch, partitionEpoch, isr))).Error;

        Assert.Equal(ErrorCode.UnknownTopicId, await Alter(1, 0, 1, [1], topic: Guid.NewGuid()));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, await Alter(1, 0, 1, [1], partition: 3));
        Assert.Equal(ErrorCode.UnknownLeaderEpoch, await Alter(1, 1, 1, [1]));
        Assert.Equal(ErrorCode.InvalidUpdateVersion, await Alter(1, 0, 0, [1]));   // based on a superseded ISR
        Assert.Equal(ErrorCode.InvalidRequest, await Alter(2, 0, 1, [2]));         // not the leader
        Assert.Equal(ErrorCode.InvalidRequest, await Alter(1, 0, 1, [1, 5]));      // 5 is not a replica
        Assert.Equal(ErrorCode.InvalidRequest, await Alter(1, 0, 1, [2, 3]));      // the leader must stay in its ISR
        Assert.Equal(ErrorCode.InvalidRequest, await Alter(1, 0, 1, []));
        Assert.Equal(ErrorCode.IneligibleReplica, await Alter(1, 0, 1, [1, 2, 3, 4])); // 4 is not a registered broker
        Assert.Equal(offset, log.Image.Offset);

        // A new leader epoch fences the old leader's requests.
        await log.AppendAsync([new PartitionChangeRecord(topicId, 0, 2, [2, 3], null)]);
        Assert.Equal(ErrorCode.FencedLeaderEpoch, await Alter(1, 0, 2, [1, 2, 3]));
        Assert.Equal(ErrorCode.None, await Alter(2, 1, 2, [2]));
    }
}
