using System.Collections.Frozen;
using Samsa.Broker.Configuration;
using Samsa.Metadata;
using Samsa.Storage;

namespace Samsa.Broker.Topics;

/// <summary>One config as DescribeConfigs reports it.</summary>
public sealed record ConfigEntry(string Name, string? Value, ConfigSource Source, bool ReadOnly, bool Sensitive, ConfigType Type, string? Documentation);

/// <summary>
/// Topic-level configs: the known names (every broker config that carries a topic config name), their broker-level
/// defaults, the topic's dynamic overrides from the metadata image, and the resulting effective <see cref="LogConfig"/>.
/// </summary>
public sealed class TopicConfigs(BrokerConfig broker, IMetadataLog metadata)
{
    private readonly FrozenDictionary<string, ConfigDefinition> _byTopicName = BrokerConfigDefinitions.All
        .Where(d => d.TopicConfigName is not null)
        .GroupBy(d => d.TopicConfigName!)
        .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    public IEnumerable<string> Names => _byTopicName.Keys.Order(StringComparer.Ordinal);

    public bool IsKnown(string name) => _byTopicName.ContainsKey(name);

    /// <summary>The broker-level value a topic config falls back to, and whether it was set explicitly.</summary>
    public (string? Value, ConfigSource Source) BrokerDefault(string topicConfigName)
    {
        // Keys with precedence rules (ms > minutes > hours) are resolved by BrokerConfig's typed properties.
        switch (topicConfigName)
        {
            case LogConfig.RetentionMsKey:
                return (broker.LogRetentionMs.ToString(System.Globalization.CultureInfo.InvariantCulture), SourceOf("log.retention.ms", "log.retention.minutes", "log.retention.hours"));
            case LogConfig.SegmentMsKey:
                return (broker.LogRollMs.ToString(System.Globalization.CultureInfo.InvariantCulture), SourceOf("log.roll.ms", "log.roll.hours"));
        }
        var def = _byTopicName[topicConfigName];
        return broker.Values.TryGetValue(def.Name, out var v) ? (v, ConfigSource.StaticBrokerConfig) : (def.Default, ConfigSource.DefaultConfig);
    }

    private ConfigSource SourceOf(params string[] keys) =>
        keys.Any(broker.Values.ContainsKey) ? ConfigSource.StaticBrokerConfig : ConfigSource.DefaultConfig;

    public LogConfig BrokerLogDefaults()
    {
        var values = _byTopicName.Keys.ToDictionary(k => k, k => BrokerDefault(k).Value);
        return LogConfig.Parse(values);
    }

    public LogConfig Effective(string topic) =>
        LogConfig.Parse(metadata.Image.ConfigsOf(ConfigResourceType.Topic, topic).ToDictionary(kv => kv.Key, kv => (string?)kv.Value), BrokerLogDefaults());

    /// <summary>Returns an error message when a topic config name or value is invalid, else null.</summary>
    public string? Validate(IEnumerable<KeyValuePair<string, string?>> overrides)
    {
        var dict = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in overrides)
        {
            if (!_byTopicName.TryGetValue(name, out var def)) return $"Unknown topic config name: {name}";
            if (value is null) continue;
            try
            {
                def.Parse(value);
            }
            catch (ConfigException e)
            {
                return e.Message.Replace(def.Name, name, StringComparison.Ordinal);
            }
            dict[name] = value;
        }
        try
        {
            LogConfig.Parse(dict, BrokerLogDefaults());
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        return null;
    }

    public IEnumerable<ConfigEntry> Describe(string topic)
    {
        var overrides = metadata.Image.ConfigsOf(ConfigResourceType.Topic, topic);
        foreach (var name in Names)
        {
            var def = _byTopicName[name];
            if (overrides.TryGetValue(name, out var value))
                yield return new ConfigEntry(name, value, ConfigSource.DynamicTopicConfig, false, def.IsSensitive, def.Type, def.Documentation);
            else
            {
                var (v, source) = BrokerDefault(name);
                yield return new ConfigEntry(name, v, source, false, def.IsSensitive, def.Type, def.Documentation);
            }
        }
    }
}
