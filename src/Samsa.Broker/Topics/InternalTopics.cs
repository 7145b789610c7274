using Samsa.Metadata;

namespace Samsa.Broker.Topics;

/// <summary>
/// Replication of the internal topics (<c>__consumer_offsets</c>, <c>__transaction_state</c>). The defaults are Kafka's
/// (replication factor 3, min ISR 2 for transactions) so a cluster's coordinators survive a node failure; Samsa caps them
/// at the cluster's size (registered brokers, or the quorum's voters while they are still registering) so a single
/// node runs with the same defaults. Creation still needs that many live brokers, as in Kafka: while fewer are up the
/// coordinator answers COORDINATOR_NOT_AVAILABLE and clients retry, rather than getting an under-replicated topic.
/// </summary>
internal static class InternalTopics
{
    public static short ReplicationFactor(short configured, MetadataImage image, int voters)
    {
        int clusterSize = Math.Max(1, Math.Max(image.Brokers.Count, voters));
        return (short)Math.Min(configured, clusterSize);
    }

    public static int MinInSyncReplicas(int configured, short replicationFactor) => Math.Max(1, Math.Min(configured, replicationFactor));
}
