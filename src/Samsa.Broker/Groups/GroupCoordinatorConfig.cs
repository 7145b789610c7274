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
    int OffsetMetadataMaxBytes = 4096)
{
    public static GroupCoordinatorConfig From(BrokerConfig config) => new(
        config.GroupMinSessionTimeoutMs,
        config.GroupMaxSessionTimeoutMs,
        config.GroupInitialRebalanceDelayMs,
        Convert.ToInt32(config.Get("group.max.size"), System.Globalization.CultureInfo.InvariantCulture),
        config.OffsetsRetentionMs,
        Convert.ToInt64(config.Get("offsets.retention.check.interval.ms"), System.Globalization.CultureInfo.InvariantCulture));
}
