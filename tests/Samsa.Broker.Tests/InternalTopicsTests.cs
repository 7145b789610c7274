using Samsa.Broker.Topics;
using Samsa.Metadata;

namespace Samsa.Broker.Tests;

public sealed class InternalTopicsTests
{
    private static MetadataImage WithBrokers(int count) =>
        MetadataImage.Empty.Apply(Enumerable.Range(1, count)
            .Select(id => (MetadataRecord)new RegisterBrokerRecord(id, [new BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9092 + id, "PLAINTEXT")], null, Guid.NewGuid())));

    [Fact]
    public void Replication_factor_is_capped_at_the_cluster_size()
    {
        Assert.Equal(1, InternalTopics.ReplicationFactor(3, WithBrokers(1), voters: 0)); // zero-config single node
        Assert.Equal(2, InternalTopics.ReplicationFactor(3, WithBrokers(2), voters: 0));
        Assert.Equal(3, InternalTopics.ReplicationFactor(3, WithBrokers(5), voters: 0));
        // Voters still registering: the quorum's size counts, so an early group does not get a replication factor of 1.
        Assert.Equal(3, InternalTopics.ReplicationFactor(3, WithBrokers(1), voters: 3));
        Assert.Equal(1, InternalTopics.ReplicationFactor(3, MetadataImage.Empty, voters: 0));
    }

    [Fact]
    public void Min_isr_never_exceeds_the_replication_factor()
    {
        Assert.Equal(1, InternalTopics.MinInSyncReplicas(2, 1));
        Assert.Equal(2, InternalTopics.MinInSyncReplicas(2, 3));
        Assert.Equal(1, InternalTopics.MinInSyncReplicas(0, 3));
    }
}
