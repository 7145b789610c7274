using Samsa.Broker.Configuration;

namespace Samsa.Broker.Groups;

/// <summary>The broker settings the group coordinator obeys (Kafka's group.* and offsets.* configs).</summary>
public sealed record GroupCoordinatorConfig(
    int MinSessionTimeoutMs = 6000,
    int MaxSessionTimeoutMs = 1_800_000,
    int InitialRebalanceDelayMs = 0,
    int MaxGroupSize = int.MaxValue,
    long OffsetsRetentionMs = 7 * 24 * 3_600_000L,
    long OffsetsRetentionCheckIntervalMs = 600_000,
    int OffsetMetadataMaxBytes = 4096,
    int ConsumerGroupHeartbeatIntervalMs = 5000,
    int ConsumerGroupSessionTimeoutMs = 45_000)
{
    /// <summary>group.consumer.assignors: the server-side assignors of KIP-848 groups, the first being the default.</summary>
    public IReadOnlyList<string> ConsumerGroupAssignors { get; init; } = ["uniform", "range"];

    public static GroupCoordinatorConfig From(BrokerConfig config) => new(
        config.GroupMinSessionTimeoutMs,
        config.GroupMaxSessionTimeoutMs,
        config.GroupInitialRebalanceDelayMs,
        Convert.ToInt32(config.Get("group.max.size"), System.Globalization.CultureInfo.InvariantCulture),
        config.OffsetsRetentionMs,
        Convert.ToInt64(config.Get("offsets.retention.check.interval.ms"), System.Globalization.CultureInfo.InvariantCulture),
        ConsumerGroupHeartbeatIntervalMs: Convert.ToInt32(config.Get("group.consumer.heartbeat.interval.ms"), System.Globalization.CultureInfo.InvariantCulture),
        ConsumerGroupSessionTimeoutMs: Convert.ToInt32(config.Get("group.consumer.session.timeout.ms"), System.Globalization.CultureInfo.InvariantCulture))
    {
        ConsumerGroupAssignors = config.Get("group.consumer.assignors") is IEnumerable<string> { } assignors && assignors.Any() ? [.. assignors] : ["uniform", "range"],
    };
}
