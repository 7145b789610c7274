using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Tests.Replication;
using Samsa.Metadata;
using Samsa.Metadata.Quorum;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Metadata;

/// <summary>The controller's online reassignment (KIP-455): record, catch-up completion through AlterPartition, cancel.</summary>
public sealed class ReassignmentTests
{
    private static async Task<(Controller Controller, InMemoryMetadataLog Log, Guid TopicId)> SetupAsync(int[] replicas, params int[] registered)
    {
        var log = new InMemoryMetadataLog();
        var controller = new Controller(log, -1, NullLogger.Instance);
        foreach (int id in registered)
            await controller.RegisterBrokerAsync(new RegisterBrokerRecord(id, [new BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9000 + id, "PLAINTEXT")], $"r{id}", Guid.NewGuid()));
        var created = await controller.CreateTopicAsync(new CreateTopicSpec("t", 1, 1,
            new Dictionary<int, int[]> { [0] = replicas }, new Dictionary<string, string?>()), validateOnly: false);
        Assert.True(created.Result.IsOk, created.Result.Message);
        return (controller, log, created.Topic!.TopicId);
    }

    private static PartitionImage Partition(InMemoryMetadataLog log) => log.Image.Topic("t")!.Partitions[0];

    [Fact]
    public async Task Adding_replicas_join_and_the_last_one_in_sync_completes_moving_the_leader_with_an_epoch_bump()
    {
        var (controller, log, topicId) = await SetupAsync([1, 2, 3], 1, 2, 3, 4, 5);
        var results = await controller.AlterPartitionReassignmentsAsync([new ReassignmentSpec("t", 0, [4, 5, 2])]);
        Assert.Equal(ErrorCode.None, Assert.Single(results).Error);

        var p = Partition(log);
        Assert.Equal([4, 5, 2, 1, 3], p.Replicas);           // target first, then the replicas being removed
        Assert.Equal([4, 5], p.AddingReplicas);
        Assert.Equal([1, 3], p.RemovingReplicas);
        Assert.Equal([1, 2, 3], p.Isr);
        Assert.Equal(1, p.Leader);
        Assert.Equal(0, p.LeaderEpoch);
        var listed = Assert.Single(controller.ListPartitionReassignments(null));
        Assert.Equal(("t", 0), (listed.Topic, listed.Partition));
        Assert.Equal([4, 5], listed.AddingReplicas);

        // 4 catches up: an ordinary ISR expansion, the reassignment goes on.
        var first = await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, p.PartitionEpoch, [1, 2, 3, 4]));
        Assert.Equal(ErrorCode.None, first.Error);
        Assert.Equal([4, 2, 1, 3], Partition(log).Isr);
        Assert.True(Partition(log).IsReassigning);

        // 5 catches up: the same change completes it; leader 1 is removed, so 4 (first in-sync target) leads.
        var done = await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, Partition(log).PartitionEpoch, [1, 2, 3, 4, 5]));
        Assert.Equal(ErrorCode.None, done.Error);
        p = Partition(log);
        Assert.Equal(done.Partition, p);
        Assert.Equal([4, 5, 2], p.Replicas);
        Assert.Equal([4, 5, 2], p.Isr);
        Assert.Empty(p.AddingReplicas);
        Assert.Empty(p.RemovingReplicas);
        Assert.Equal(4, p.Leader);
        Assert.Equal(1, p.LeaderEpoch);
        Assert.Empty(controller.ListPartitionReassignments(null));
    }

    [Fact]
    public async Task A_reassignment_that_keeps_the_leader_keeps_its_epoch_and_a_pure_removal_completes_at_once()
    {
        var (controller, log, topicId) = await SetupAsync([1, 2, 3], 1, 2, 3, 4);
        Assert.Equal(ErrorCode.None, (await controller.AlterPartitionReassignmentsAsync([new("t", 0, [1, 2, 4])]))[0].Error);
        var p = Partition(log);
        await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, p.PartitionEpoch, [1, 2, 3, 4]));
        p = Partition(log);
        Assert.Equal([1, 2, 4], p.Replicas);
        Assert.Equal([1, 2, 4], p.Isr);
        Assert.Equal((1, 0), (p.Leader, p.LeaderEpoch));

        // Removing a replica needs no catch-up: done in the same write.
        Assert.Equal(ErrorCode.None, (await controller.AlterPartitionReassignmentsAsync([new("t", 0, [2, 4])]))[0].Error);
        p = Partition(log);
        Assert.Equal([2, 4], p.Replicas);
        Assert.Equal([2, 4], p.Isr);
        Assert.False(p.IsReassigning);
        Assert.Equal((2, 1), (p.Leader, p.LeaderEpoch));
    }

    [Fact]
    public async Task Cancelling_reverts_to_the_original_replicas_and_a_new_target_replaces_the_ongoing_one()
    {
        var (controller, log, topicId) = await SetupAsync([1, 2], 1, 2, 3, 4);
        await controller.AlterPartitionReassignmentsAsync([new("t", 0, [3, 4])]);
        var p = Partition(log);
        await controller.AlterPartitionAsync(new AlterPartitionSpec(1, topicId, 0, 0, p.PartitionEpoch, [1, 2, 3]));
        Assert.Equal([3, 4, 1, 2], Partition(log).Replicas);

        // Replace the target: computed from the original replicas [1, 2], not from the ongoing set.
        await controller.AlterPartitionReassignmentsAsync([new("t", 0, [1, 4])]);
        p = Partition(log);
        Assert.Equal([1, 4, 2], p.Replicas);
        Assert.Equal([4], p.AddingReplicas);
        Assert.Equal([2], p.RemovingReplicas);
        Assert.Equal([1, 2], p.Isr); // 3 left with its reassignment

        var cancel = await controller.AlterPartitionReassignmentsAsync([new("t", 0, null)]);
        Assert.Equal(ErrorCode.None, cancel[0].Error);
        p = Partition(log);
        Assert.Equal([1, 2], p.Replicas);
        Assert.Equal([1, 2], p.Isr);
        Assert.False(p.IsReassigning);
        Assert.Equal(1, p.Leader);
    }

    [Fact]
    public async Task Invalid_reassignments_get_Kafka_errors_without_a_write()
    {
        var (controller, log, _) = await SetupAsync([1, 2], 1, 2, 3);
        long offset = log.Image.Offset;
        var results = await controller.AlterPartitionReassignmentsAsync([
            new("t", 0, []), new("t", 1, [1]), new("nope", 0, [1]), new("t", 0, null),
        ]);
        Assert.Equal([ErrorCode.InvalidReplicaAssignment, ErrorCode.UnknownTopicOrPartition, ErrorCode.UnknownTopicOrPartition, ErrorCode.InvalidRequest],
            results.Select(r => r.Error));
        Assert.Equal(ErrorCode.NoReassignmentInProgress, (await controller.AlterPartitionReassignmentsAsync([new("t", 0, null)]))[0].Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await controller.AlterPartitionReassignmentsAsync([new("t", 0, [1, 1])]))[0].Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, (await controller.AlterPartitionReassignmentsAsync([new("t", 0, [1, 9])]))[0].Error);
        // The same replicas in the same order: nothing to do, nothing written.
        Assert.Equal(ErrorCode.None, (await controller.AlterPartitionReassignmentsAsync([new("t", 0, [1, 2])]))[0].Error);
        Assert.Equal(offset, log.Image.Offset);
    }

    [Fact]
    public async Task A_snapshot_round_trips_an_ongoing_reassignment()
    {
        var (controller, log, _) = await SetupAsync([1, 2], 1, 2, 3);
        await controller.AlterPartitionReassignmentsAsync([new("t", 0, [2, 3])]);
        var snapshot = MetadataSnapshot.Deserialize(MetadataSnapshot.Of(log.Image).Serialize());
        var restored = snapshot.ToImage();
        var p = restored.Topic("t")!.Partitions[0];
        Assert.Equal(Partition(log).Replicas, p.Replicas);
        Assert.Equal([3], p.AddingReplicas);
        Assert.Equal([1], p.RemovingReplicas);
        Assert.Equal(Partition(log).PartitionEpoch, p.PartitionEpoch);
        // Every field: the records rebuilding the restored image equal the original's.
        Assert.Equal(MetadataSnapshot.SerializeBatch(MetadataSnapshot.ToRecords(log.Image)), MetadataSnapshot.SerializeBatch(MetadataSnapshot.ToRecords(restored)));
        Assert.Equal(log.Image.Offset, restored.Offset);
    }
}
