using System.Collections;
using System.Globalization;
using System.Net;
using System.Text;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Configuration;

/// <summary>
/// The static configuration of one node, keyed by Kafka's broker config names with Kafka's defaults, except where
/// Samsa's zero-config single node needs otherwise (see <see cref="BrokerConfigDefinitions"/>). Immutable.
/// Sources, strongest first: explicit overrides (command line), <c>SAMSA_*</c> environment variables, the properties
/// file, defaults. Unknown keys are kept in <see cref="Values"/> and reported in <see cref="Warnings"/>; invalid
/// values of known keys throw <see cref="ConfigException"/>.
/// </summary>
public sealed class BrokerConfig
{
    /// <summary>Prefix of environment variables read as configuration (like KAFKA_ in Kafka's docker image).</summary>
    public const string EnvironmentPrefix = "SAMSA_";

    private static readonly IReadOnlyDictionary<string, string> s_noValues = new Dictionary<string, string>();

    private readonly Dictionary<string, object?> _effective = new(StringComparer.Ordinal);

    private BrokerConfig(IReadOnlyDictionary<string, string> values, List<string> warnings)
    {
        Values = values;
        Warnings = warnings;

        foreach (var definition in BrokerConfigDefinitions.All)
        {
            var explicitValue = values.TryGetValue(definition.Name, out var raw);
            _effective[definition.Name] = definition.Parse(explicitValue ? raw : definition.Default);
        }

        foreach (var key in values.Keys.Order(StringComparer.Ordinal))
        {
            if (!BrokerConfigDefinitions.TryGet(key, out _) && !key.StartsWith("listener.name.", StringComparison.Ordinal))
            {
                warnings.Add($"Unknown configuration '{key}' is ignored");
            }
        }

        NodeId = Int("node.id");
        ProcessRoles = List("process.roles");
        if (ProcessRoles.Count == 0)
        {
            throw ConfigException.InvalidValue("process.roles", Raw("process.roles"), "at least one of broker, controller is required");
        }

        ControllerQuorumVoters = ParseVoters(Raw("controller.quorum.voters"));
        ControllerListenerNames = List("controller.listener.names").Select(n => n.ToUpperInvariant()).ToArray();
        Rack = NullIfEmpty(String("broker.rack"));

        ListenerSecurityProtocolMap = ListenerEndpoint.ParseProtocolMap(
            "listener.security.protocol.map", String("listener.security.protocol.map"));
        Listeners = ListenerEndpoint.ParseList("listeners", Raw("listeners"), ListenerSecurityProtocolMap);
        if (Listeners.Count == 0)
        {
            throw ConfigException.InvalidValue("listeners", Raw("listeners"), "at least one listener is required");
        }

        CheckDistinctPorts();
        AdvertisedListeners = ResolveAdvertisedListeners();
        InterBrokerListenerName = ResolveInterBrokerListenerName();

        var http = String("http.listener") ?? string.Empty;
        if (http.Length > 0)
        {
            if (!Uri.TryCreate(http, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw ConfigException.InvalidValue("http.listener", http, "expected an http:// or https:// URL, or empty to disable");
            }

            HttpListener = uri;
        }

        var dirs = List("log.dirs");
        LogDirs = dirs.Count > 0 ? dirs : [String("log.dir") ?? "./samsa-data"];
        if (LogDirs.Any(string.IsNullOrWhiteSpace))
        {
            throw ConfigException.InvalidValue("log.dirs", Raw("log.dirs"), "directories must not be empty");
        }

        MetadataLogDir = NullIfEmpty(String("metadata.log.dir")) ?? LogDirs[0];

        NumPartitions = Int("num.partitions");
        DefaultReplicationFactor = Int("default.replication.factor");
        AutoCreateTopicsEnable = Bool("auto.create.topics.enable");
        DeleteTopicEnable = Bool("delete.topic.enable");
        MinInsyncReplicas = Int("min.insync.replicas");
        UncleanLeaderElectionEnable = Bool("unclean.leader.election.enable");
        MessageMaxBytes = Int("message.max.bytes");
        SocketRequestMaxBytes = Int("socket.request.max.bytes");
        FetchMaxBytes = Int("fetch.max.bytes");
        QueuedMaxRequests = Int("queued.max.requests");
        ConnectionsMaxIdleMs = Long("connections.max.idle.ms");
        CompressionType = String("compression.type") ?? "producer";

        LogSegmentBytes = Int("log.segment.bytes");
        LogRollMs = LongOrNull("log.roll.ms") ?? Int("log.roll.hours") * 3_600_000L;
        LogRollJitterMs = LongOrNull("log.roll.jitter.ms") ?? Int("log.roll.jitter.hours") * 3_600_000L;
        LogRetentionMs = ResolveRetentionMs();
        LogRetentionBytes = Long("log.retention.bytes");
        LogRetentionCheckIntervalMs = Long("log.retention.check.interval.ms");
        LogCleanupPolicy = List("log.cleanup.policy");
        LogFlushIntervalMessages = Long("log.flush.interval.messages");
        LogFlushIntervalMs = LongOrNull("log.flush.interval.ms");
        LogFlushSchedulerIntervalMs = Long("log.flush.scheduler.interval.ms");
        LogIndexIntervalBytes = Int("log.index.interval.bytes");
        LogIndexSizeMaxBytes = Int("log.index.size.max.bytes");
        LogSegmentDeleteDelayMs = Long("log.segment.delete.delay.ms");
        LogMessageTimestampType = String("log.message.timestamp.type") == "LogAppendTime"
            ? TimestampType.LogAppendTime
            : TimestampType.CreateTime;
        LogCleanerEnable = Bool("log.cleaner.enable");

        OffsetsTopicNumPartitions = Int("offsets.topic.num.partitions");
        OffsetsTopicReplicationFactor = (short)_effective["offsets.topic.replication.factor"]!;
        OffsetsRetentionMs = Int("offsets.retention.minutes") * 60_000L;
        GroupInitialRebalanceDelayMs = Int("group.initial.rebalance.delay.ms");
        GroupMinSessionTimeoutMs = Int("group.min.session.timeout.ms");
        GroupMaxSessionTimeoutMs = Int("group.max.session.timeout.ms");
        if (GroupMinSessionTimeoutMs > GroupMaxSessionTimeoutMs)
        {
            throw ConfigException.InvalidValue("group.min.session.timeout.ms", GroupMinSessionTimeoutMs.ToString(CultureInfo.InvariantCulture),
                $"must not exceed group.max.session.timeout.ms ({GroupMaxSessionTimeoutMs})");
        }

        TransactionalIdExpirationMs = Int("transactional.id.expiration.ms");
        TransactionMaxTimeoutMs = Int("transaction.max.timeout.ms");
        TransactionStateLogNumPartitions = Int("transaction.state.log.num.partitions");
        TransactionStateLogReplicationFactor = (short)_effective["transaction.state.log.replication.factor"]!;
        TransactionStateLogMinIsr = Int("transaction.state.log.min.isr");

        var clusterId = NullIfEmpty(String("cluster.id"));
        if (clusterId is not null && clusterId.Any(char.IsWhiteSpace))
        {
            throw ConfigException.InvalidValue("cluster.id", clusterId, "must not contain whitespace");
        }

        ClusterId = clusterId ?? string.Empty;
    }

    /// <summary>Every broker config definition (name, type, default, importance, doc, dynamic, topic config).</summary>
    public static IReadOnlyList<ConfigDefinition> ConfigDefinitions => BrokerConfigDefinitions.All;

    /// <summary>Explicitly set values (file, environment, overrides merged), including unknown keys.</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>Non-fatal problems found while loading (unknown keys, ignored environment variables).</summary>
    public IReadOnlyList<string> Warnings { get; }

    public int NodeId { get; }
    public IReadOnlyList<string> ProcessRoles { get; }
    public bool IsBroker => ProcessRoles.Contains("broker");
    public bool IsController => ProcessRoles.Contains("controller");
    public IReadOnlyList<QuorumVoter> ControllerQuorumVoters { get; }
    public IReadOnlyList<string> ControllerListenerNames { get; }

    /// <summary>cluster.id: configured, or read from / generated into meta.properties by <see cref="Load"/>.</summary>
    public string ClusterId { get; private set; }

    public string? Rack { get; }
    public IReadOnlyDictionary<string, SecurityProtocol> ListenerSecurityProtocolMap { get; }
    public IReadOnlyList<ListenerEndpoint> Listeners { get; }

    /// <summary>
    /// Endpoints given to clients in Metadata. Default: <see cref="Listeners"/> minus controller listeners, with a
    /// wildcard host replaced by this machine's host name (as Kafka does). Port 0 means "the port actually bound".
    /// </summary>
    public IReadOnlyList<ListenerEndpoint> AdvertisedListeners { get; }

    public string InterBrokerListenerName { get; }

    /// <summary>Samsa's HTTP endpoint (console, REST, /metrics); null when disabled.</summary>
    public Uri? HttpListener { get; }

    public IReadOnlyList<string> LogDirs { get; }
    public string MetadataLogDir { get; }
    public int NumPartitions { get; }
    public int DefaultReplicationFactor { get; }
    public bool AutoCreateTopicsEnable { get; }
    public bool DeleteTopicEnable { get; }
    public int MinInsyncReplicas { get; }
    public bool UncleanLeaderElectionEnable { get; }
    public int MessageMaxBytes { get; }
    public int SocketRequestMaxBytes { get; }
    public int FetchMaxBytes { get; }
    public int QueuedMaxRequests { get; }
    public long ConnectionsMaxIdleMs { get; }
    public string CompressionType { get; }

    public int LogSegmentBytes { get; }

    /// <summary>log.roll.ms, else log.roll.hours in milliseconds.</summary>
    public long LogRollMs { get; }

    public long LogRollJitterMs { get; }

    /// <summary>log.retention.ms, else .minutes, else .hours, in milliseconds; -1 means keep forever.</summary>
    public long LogRetentionMs { get; }

    /// <summary>-1 means no size limit.</summary>
    public long LogRetentionBytes { get; }

    public long LogRetentionCheckIntervalMs { get; }
    public IReadOnlyList<string> LogCleanupPolicy { get; }

    /// <summary>Messages per partition between fsyncs: 1 (Samsa default) fsyncs before every ack; long.MaxValue disables.</summary>
    public long LogFlushIntervalMessages { get; }

    /// <summary>Max time unflushed; null when not set (then <see cref="LogFlushSchedulerIntervalMs"/> applies).</summary>
    public long? LogFlushIntervalMs { get; }

    public long LogFlushSchedulerIntervalMs { get; }
    public int LogIndexIntervalBytes { get; }
    public int LogIndexSizeMaxBytes { get; }
    public long LogSegmentDeleteDelayMs { get; }
    public TimestampType LogMessageTimestampType { get; }
    public bool LogCleanerEnable { get; }

    public int OffsetsTopicNumPartitions { get; }
    public short OffsetsTopicReplicationFactor { get; }
    public long OffsetsRetentionMs { get; }
    public int GroupInitialRebalanceDelayMs { get; }
    public int GroupMinSessionTimeoutMs { get; }
    public int GroupMaxSessionTimeoutMs { get; }

    public int TransactionalIdExpirationMs { get; }
    public int TransactionMaxTimeoutMs { get; }
    public int TransactionStateLogNumPartitions { get; }
    public short TransactionStateLogReplicationFactor { get; }
    public int TransactionStateLogMinIsr { get; }

    /// <summary>
    /// Loads the configuration and initialises meta.properties in the log dirs (creating them), which fixes
    /// <see cref="ClusterId"/>. Precedence: <paramref name="overrides"/> &gt; SAMSA_* variables in
    /// <paramref name="environment"/> &gt; <paramref name="propertiesFile"/> &gt; defaults.
    /// </summary>
    /// <exception cref="ConfigException">A value is invalid, the file is unreadable or meta.properties disagrees.</exception>
    public static BrokerConfig Load(
        string? propertiesFile, IEnumerable<KeyValuePair<string, string>> overrides, IDictionary environment)
    {
        var config = Parse(propertiesFile, overrides, environment);
        config.ClusterId = MetaProperties.Ensure(config.LogDirs, config.NodeId, NullIfEmpty(config.ClusterId));
        return config;
    }

    /// <summary>
    /// Like <see cref="Load"/> but touches no directory: <see cref="ClusterId"/> is the configured cluster.id or empty.
    /// For validation and tools.
    /// </summary>
    public static BrokerConfig Parse(
        string? propertiesFile, IEnumerable<KeyValuePair<string, string>> overrides, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        ArgumentNullException.ThrowIfNull(environment);

        var warnings = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(propertiesFile))
        {
            foreach (var (key, value) in JavaProperties.ParseFile(propertiesFile))
            {
                values[key] = value;
            }
        }

        foreach (var (key, value) in FromEnvironment(environment))
        {
            values[key] = value;
        }

        foreach (var (key, value) in overrides)
        {
            values[key.Trim()] = value;
        }

        return new BrokerConfig(values, warnings);
    }

    /// <summary>Configuration from explicit values only (no file, no environment), for embedding and tests.</summary>
    public static BrokerConfig FromValues(IEnumerable<KeyValuePair<string, string>> values, bool initializeLogDirs = true)
    {
        var empty = new Hashtable();
        return initializeLogDirs ? Load(null, values, empty) : Parse(null, values, empty);
    }

    /// <summary>
    /// Maps SAMSA_* variables to config names: strip the prefix, then a single '_' becomes '.', '__' becomes '_' and
    /// '___' becomes '-', lower-cased (SAMSA_LOG_DIRS → log.dirs), as Kafka's docker image does for KAFKA_*.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> FromEnvironment(IDictionary environment)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.Ordinal)
                && name.Length > EnvironmentPrefix.Length && entry.Value is string value)
            {
                result.Add(new(EnvironmentNameToKey(name[EnvironmentPrefix.Length..]), value));
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    internal static string EnvironmentNameToKey(string name)
    {
        var sb = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length;)
        {
            if (name[i] != '_')
            {
                sb.Append(char.ToLowerInvariant(name[i++]));
                continue;
            }

            var run = 0;
            while (i < name.Length && name[i] == '_')
            {
                run++;
                i++;
            }

            sb.Append(run switch { 1 => ".", 2 => "_", 3 => "-", _ => new string('.', run) });
        }

        return sb.ToString();
    }

    /// <summary>The typed effective value of a known key (explicit or default); null when unset without default.</summary>
    public object? Get(string name) =>
        _effective.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"Unknown broker configuration {name}");

    /// <summary>The effective value of a known key as DescribeConfigs reports it (explicit value or default).</summary>
    public string? GetString(string name)
    {
        if (!BrokerConfigDefinitions.TryGet(name, out var definition))
        {
            throw new KeyNotFoundException($"Unknown broker configuration {name}");
        }

        return Values.TryGetValue(name, out var raw) ? (definition.Type == ConfigType.Password ? raw : raw.Trim()) : definition.Default;
    }

    public ConfigSource GetSource(string name) =>
        Values.ContainsKey(name) ? ConfigSource.StaticBrokerConfig : ConfigSource.DefaultConfig;

    /// <summary>Every known broker config with its effective value and source, for DescribeConfigs (BROKER resource).</summary>
    public IEnumerable<BrokerConfigEntry> Describe()
    {
        foreach (var definition in BrokerConfigDefinitions.All)
        {
            var value = definition.Name == "cluster.id" && ClusterId.Length > 0 ? ClusterId : GetString(definition.Name);
            yield return new BrokerConfigEntry(
                definition.Name,
                definition.IsSensitive ? null : value,
                GetSource(definition.Name),
                IsReadOnly: !definition.IsDynamic,
                definition.IsSensitive,
                definition);
        }
    }

    /// <summary>
    /// The broker-level default of a topic config (retention.ms, segment.bytes, max.message.bytes, cleanup.policy…),
    /// with Kafka's resolution of the ms/minutes/hours synonyms. False for topic configs with no broker default.
    /// </summary>
    public bool TryGetTopicConfigDefault(string topicConfigName, out string? value, out ConfigDefinition definition)
    {
        if (!BrokerConfigDefinitions.TryGetByTopicConfig(topicConfigName, out definition))
        {
            value = null;
            return false;
        }

        value = topicConfigName switch
        {
            "retention.ms" => Invariant(LogRetentionMs),
            "segment.ms" => Invariant(LogRollMs),
            "segment.jitter.ms" => Invariant(LogRollJitterMs),
            "flush.ms" => Invariant(LogFlushIntervalMs ?? LogFlushSchedulerIntervalMs),
            _ => definition.IsSensitive ? null : GetString(definition.Name),
        };
        return true;
    }

    /// <summary>The source of a topic config's broker default: STATIC_BROKER_CONFIG when any synonym was set.</summary>
    public ConfigSource GetTopicConfigDefaultSource(string topicConfigName)
    {
        if (!BrokerConfigDefinitions.TryGetByTopicConfig(topicConfigName, out var definition))
        {
            return ConfigSource.Unknown;
        }

        string[] synonyms = topicConfigName switch
        {
            "retention.ms" => ["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
            "segment.ms" => ["log.roll.ms", "log.roll.hours"],
            "segment.jitter.ms" => ["log.roll.jitter.ms", "log.roll.jitter.hours"],
            "flush.ms" => ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
            _ => [definition.Name],
        };
        return synonyms.Any(Values.ContainsKey) ? ConfigSource.StaticBrokerConfig : ConfigSource.DefaultConfig;
    }

    /// <summary>Known keys set to a value different from the default, sorted by name; passwords are masked.</summary>
    public IEnumerable<(string Name, string Value)> NonDefaultValues()
    {
        foreach (var (name, raw) in Values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!BrokerConfigDefinitions.TryGet(name, out var definition))
            {
                continue;
            }

            if (definition.IsSensitive)
            {
                yield return (name, "[hidden]");
                continue;
            }

            if (definition.Default is not null && SameValue(definition.Parse(definition.Default), _effective[name]))
            {
                continue;
            }

            yield return (name, raw.Trim());
        }
    }

    private static bool SameValue(object? a, object? b) =>
        a is IReadOnlyList<string> la && b is IReadOnlyList<string> lb ? la.SequenceEqual(lb) : Equals(a, b);

    private string? Raw(string name) => Values.TryGetValue(name, out var raw) ? raw : BrokerConfigDefinitions.TryGet(name, out var d) ? d.Default : null;

    private int Int(string name) => (int)_effective[name]!;

    private long Long(string name) => (long)_effective[name]!;

    private long? LongOrNull(string name) => (long?)_effective[name];

    private bool Bool(string name) => (bool)_effective[name]!;

    private string? String(string name) => (string?)_effective[name];

    private IReadOnlyList<string> List(string name) => (IReadOnlyList<string>?)_effective[name] ?? [];

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private long ResolveRetentionMs()
    {
        // Kafka: log.retention.ms wins over .minutes, which wins over .hours; any negative value means unlimited.
        var ms = LongOrNull("log.retention.ms");
        if (ms is null)
        {
            var minutes = (int?)_effective["log.retention.minutes"];
            ms = minutes is { } m ? m * 60_000L : Int("log.retention.hours") * 3_600_000L;
        }

        return ms < 0 ? -1 : ms.Value;
    }

    private void CheckDistinctPorts()
    {
        var seen = new HashSet<(string Host, int Port)>();
        foreach (var listener in Listeners)
        {
            if (listener.Port != 0 && !seen.Add((listener.Host, listener.Port)))
            {
                throw ConfigException.InvalidValue("listeners", Raw("listeners"),
                    $"each listener must have a different port ({listener.Host}:{listener.Port} is used twice)");
            }
        }
    }

    private IReadOnlyList<ListenerEndpoint> ResolveAdvertisedListeners()
    {
        var configured = Raw("advertised.listeners");
        if (configured is null)
        {
            return Listeners
                .Where(l => !ControllerListenerNames.Contains(l.Name))
                .Select(l => l.IsWildcard ? l with { Host = Dns.GetHostName() } : l)
                .ToArray();
        }

        var advertised = ListenerEndpoint.ParseList("advertised.listeners", configured, ListenerSecurityProtocolMap);
        foreach (var endpoint in advertised)
        {
            if (endpoint.IsWildcard)
            {
                throw ConfigException.InvalidValue("advertised.listeners", configured,
                    $"{endpoint} uses the non-routable meta-address {endpoint.Host}; advertise a host clients can reach");
            }

            if (!Listeners.Any(l => l.Name == endpoint.Name))
            {
                throw ConfigException.InvalidValue("advertised.listeners", configured,
                    $"listener {endpoint.Name} is not in listeners");
            }
        }

        return advertised;
    }

    private string ResolveInterBrokerListenerName()
    {
        var configured = NullIfEmpty(String("inter.broker.listener.name"))?.ToUpperInvariant();
        if (configured is not null)
        {
            if (!Listeners.Any(l => l.Name == configured))
            {
                throw ConfigException.InvalidValue("inter.broker.listener.name", configured, "must be the name of one of the listeners");
            }

            return configured;
        }

        SecurityProtocolNames.TryParse(String("security.inter.broker.protocol"), out var protocol);
        var match = Listeners.FirstOrDefault(l => !ControllerListenerNames.Contains(l.Name) && l.SecurityProtocol == protocol)
            ?? Listeners[0];
        return match.Name;
    }

    private static IReadOnlyList<QuorumVoter> ParseVoters(string? value)
    {
        var voters = new List<QuorumVoter>();
        foreach (var item in ConfigDefinition.SplitList(value))
        {
            var at = item.IndexOf('@', StringComparison.Ordinal);
            var colon = item.LastIndexOf(':');
            if (at <= 0 || colon <= at
                || !int.TryParse(item.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                || !int.TryParse(item.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port > 65535)
            {
                throw ConfigException.InvalidValue("controller.quorum.voters", value, $"entry '{item}' must be id@host:port");
            }

            voters.Add(new QuorumVoter(id, item[(at + 1)..colon].Trim('[', ']'), port));
        }

        return voters;
    }
}

/// <summary>One controller.quorum.voters entry: id@host:port.</summary>
public sealed record QuorumVoter(int NodeId, string Host, int Port);

/// <summary>One row of a BROKER DescribeConfigs answer.</summary>
public sealed record BrokerConfigEntry(
    string Name,
    string? Value,
    ConfigSource Source,
    bool IsReadOnly,
    bool IsSensitive,
    ConfigDefinition Definition);
