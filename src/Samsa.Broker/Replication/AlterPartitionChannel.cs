using Samsa.Metadata;

namespace Samsa.Broker.Replication;

/// <summary>
/// How a partition leader reaches the controller with an ISR change (Kafka's AlterPartitionManager). In a cluster the
/// controller may live on another node: the metadata quorum's forwarding provides that implementation.
/// </summary>
public interface IAlterPartitionChannel
{
    Task<AlterPartitionResult> AlterPartitionAsync(AlterPartitionSpec spec, CancellationToken cancellationToken);
}

/// <summary>The controller in this process.</summary>
public sealed class LocalAlterPartitionChannel(Controller controller) : IAlterPartitionChannel
{
    public Task<AlterPartitionResult> AlterPartitionAsync(AlterPartitionSpec spec, CancellationToken cancellationToken) =>
        controller.AlterPartitionAsync(spec, cancellationToken);
}
