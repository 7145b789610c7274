using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// What <c>samsa topic describe</c> shows: per partition the leader, replicas, ISR and the earliest/latest offsets
/// (ListOffsets; "latest" is the high watermark, the next offset a consumer will see), then every topic config with the
/// source Kafka names for it (DYNAMIC_TOPIC_CONFIG for a topic override, DEFAULT_CONFIG, STATIC_BROKER_CONFIG, ...).
/// For compacted topics, when a node's metrics endpoint answered, also the cleaner's dirty ratio and last-clean time.
/// </summary>
internal sealed record TopicDescription(string Name, IReadOnlyList<PartitionDescription> Partitions, IReadOnlyList<ConfigDescription> Configs)
{
    public static async Task<TopicDescription> LoadAsync(AdminSession session, string topic, CancellationToken ct)
    {
        var metadata = await session.GetTopicAsync(topic, ct).ConfigureAwait(false);
        var partitions = metadata.Partitions.OrderBy(p => p.PartitionId).ToList();

        var earliest = await ListOffsetsAsync(session, topic, partitions, OffsetSpec.Earliest(), ct).ConfigureAwait(false);
        var latest = await ListOffsetsAsync(session, topic, partitions, OffsetSpec.Latest(), ct).ConfigureAwait(false);

        List<DescribeConfigsResult> configResults;
        try
        {
            configResults = await session.Watch.WaitAsync(session.Admin.DescribeConfigsAsync(
                [new ConfigResource { Type = ResourceType.Topic, Name = topic }],
                new DescribeConfigsOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
        }
        catch (DescribeConfigsException e) when (e.Results.Count > 0 && e.Results[0].Error.IsError)
        {
            throw TopicCommand.TopicError(topic, "describe configs of", e.Results[0].Error);
        }

        var configs = configResults.SelectMany(r => r.Entries.Values)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new ConfigDescription(c.Name, c.IsSensitive ? null : c.Value, SourceName(c.Source), c.IsDefault, c.IsReadOnly, c.IsSensitive))
            .ToList();

        var described = partitions.Select(p => new PartitionDescription(
                p.PartitionId,
                p.Leader,
                p.Replicas,
                p.InSyncReplicas,
                earliest.GetValueOrDefault(p.PartitionId, -1),
                latest.GetValueOrDefault(p.PartitionId, -1),
                p.Error.IsError ? Output.KafkaErrorName(p.Error.Code) : null))
            .ToList();
        return new TopicDescription(topic, described, configs);
    }

    private static async Task<Dictionary<int, long>> ListOffsetsAsync(AdminSession session, string topic, List<PartitionMetadata> partitions,
        OffsetSpec spec, CancellationToken ct)
    {
        var result = new Dictionary<int, long>();
        if (partitions.Count == 0)
        {
            return result;
        }

        var request = partitions.Select(p => new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(topic, p.PartitionId), OffsetSpec = spec });
        IEnumerable<ListOffsetsResultInfo> infos;
        try
        {
            var listed = await session.Watch.WaitAsync(session.Admin.ListOffsetsAsync(request,
                new ListOffsetsOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
            infos = listed.ResultInfos;
        }
        catch (ListOffsetsException e)
        {
            // Partial failure (e.g. one partition without a leader): show what was answered, -1 for the rest.
            infos = e.Result.ResultInfos;
        }

        foreach (var info in infos)
        {
            var tpo = info.TopicPartitionOffsetError;
            if (!tpo.Error.IsError)
            {
                result[tpo.Partition.Value] = tpo.Offset.Value;
            }
        }

        return result;
    }

    /// <summary>Kafka's names for config sources (DescribeConfigsResponse ConfigSource), as kafka-configs.sh prints them.</summary>
    public static string SourceName(ConfigSource source) => source switch
    {
        ConfigSource.DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
        ConfigSource.DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
        ConfigSource.DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        ConfigSource.StaticBrokerConfig => "STATIC_BROKER_CONFIG",
        ConfigSource.DefaultConfig => "DEFAULT_CONFIG",
        ConfigSource.GroupConfig => "GROUP_CONFIG",
        _ => "UNKNOWN",
    };

    public int ReplicationFactor => Partitions.Count == 0 ? 0 : Partitions.Max(p => p.Replicas.Count);

    /// <summary>cleanup.policy includes compact.</summary>
    public bool IsCompacted => Configs.Any(c => c.Name == "cleanup.policy" &&
        (c.Value ?? "").Split(',', StringSplitOptions.TrimEntries).Contains("compact", StringComparer.OrdinalIgnoreCase));

    /// <summary>Cleaner progress per partition from a node's metrics (compacted topics); null when not known.</summary>
    public IReadOnlyDictionary<int, PartitionCleanerStatus>? Cleaner { get; init; }

    private static string FormatRatio(PartitionCleanerStatus? status) =>
        status is null ? "-" : status.DirtyRatio.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

    private static string FormatLastCleaned(PartitionCleanerStatus? status) =>
        status is null ? "-" : status.LastCleaned is { } at ? FormatTime(at) : "never";

    private static string FormatTime(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public void WriteTable(TextWriter writer)
    {
        writer.WriteLine($"Topic: {Name}  Partitions: {Partitions.Count}  Replication factor: {ReplicationFactor}  " +
                         $"Records: {Partitions.Sum(p => Math.Max(0, p.LatestOffset - p.EarliestOffset))}");
        writer.WriteLine();
        bool anyError = Partitions.Any(p => p.Error is not null);
        string[] headers = ["PARTITION", "LEADER", "REPLICAS", "ISR", "EARLIEST", "LATEST"];
        if (Cleaner is not null) headers = [.. headers, "DIRTY-RATIO", "LAST-CLEANED"];
        if (anyError) headers = [.. headers, "ERROR"];
        var partitions = new TextTable(headers);
        foreach (var p in Partitions)
        {
            object[] cells = [p.Partition, p.Leader < 0 ? "none" : p.Leader, string.Join(",", p.Replicas), string.Join(",", p.Isr), p.EarliestOffset, p.LatestOffset];
            if (Cleaner is not null)
            {
                var status = Cleaner.GetValueOrDefault(p.Partition);
                cells = [.. cells, FormatRatio(status), FormatLastCleaned(status)];
            }

            partitions.Add(anyError ? [.. cells, p.Error ?? ""] : cells);
        }

        partitions.Write(writer);
        writer.WriteLine();
        var configs = new TextTable("CONFIG", "VALUE", "SOURCE");
        foreach (var c in Configs)
        {
            configs.Add(c.Name, c.IsSensitive ? "(sensitive)" : c.Value ?? "null", c.Source);
        }

        configs.Write(writer);
    }

    public JsonObject ToJson()
    {
        var partitions = new JsonArray();
        foreach (var p in Partitions)
        {
            var partition = new JsonObject
            {
                ["partition"] = p.Partition,
                ["leader"] = p.Leader,
                ["replicas"] = new JsonArray(p.Replicas.Select(r => (JsonNode?)r).ToArray()),
                ["isr"] = new JsonArray(p.Isr.Select(r => (JsonNode?)r).ToArray()),
                ["earliestOffset"] = p.EarliestOffset,
                ["latestOffset"] = p.LatestOffset,
                ["error"] = p.Error,
            };
            if (Cleaner is not null)
            {
                // null: the node did not report the partition (dirtyRatio) or never cleaned it (lastCleaned).
                var status = Cleaner.GetValueOrDefault(p.Partition);
                partition["dirtyRatio"] = status?.DirtyRatio;
                partition["lastCleaned"] = status?.LastCleaned is { } at ? FormatTime(at) : null;
            }

            partitions.Add(partition);
        }

        var configs = new JsonArray();
        foreach (var c in Configs)
        {
            configs.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["value"] = c.Value,
                ["source"] = c.Source,
                ["isDefault"] = c.IsDefault,
                ["isReadOnly"] = c.IsReadOnly,
                ["isSensitive"] = c.IsSensitive,
            });
        }

        return new JsonObject
        {
            ["name"] = Name,
            ["replicationFactor"] = ReplicationFactor,
            ["partitions"] = partitions,
            ["configs"] = configs,
        };
    }
}

internal sealed record PartitionDescription(int Partition, int Leader, IReadOnlyList<int> Replicas, IReadOnlyList<int> Isr,
    long EarliestOffset, long LatestOffset, string? Error);

internal sealed record ConfigDescription(string Name, string? Value, string Source, bool IsDefault, bool IsReadOnly, bool IsSensitive);
