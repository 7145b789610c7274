using System.Collections;
using Samsa.Broker.Configuration;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests;

public sealed class ConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-config-" + Guid.NewGuid().ToString("N"));

    public ConfigTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static readonly Hashtable s_noEnv = new();

    private static KeyValuePair<string, string> Kv(string key, string value) => new(key, value);

    private BrokerConfig Parse(params (string Key, string Value)[] values) =>
        BrokerConfig.Parse(null, values.Select(v => Kv(v.Key, v.Value)), s_noEnv);

    [Fact]
    public void Defaults_are_zero_config_single_node()
    {
        var config = Parse();

        Assert.Equal(1, config.NodeId);
        var listener = Assert.Single(config.Listeners);
        Assert.Equal(new ListenerEndpoint("PLAINTEXT", SecurityProtocol.Plaintext, "127.0.0.1", 9092), listener);
        Assert.Equal(config.Listeners, config.AdvertisedListeners);
        Assert.Equal(["./samsa-data"], config.LogDirs);
        Assert.Equal(1, config.NumPartitions);
        Assert.Equal(1, config.DefaultReplicationFactor);
        Assert.True(config.AutoCreateTopicsEnable);
        Assert.Equal(1048588, config.MessageMaxBytes);
        Assert.Equal(104857600, config.SocketRequestMaxBytes);
        Assert.Equal(1073741824, config.LogSegmentBytes);
        Assert.Equal(168 * 3_600_000L, config.LogRollMs);
        Assert.Equal(168 * 3_600_000L, config.LogRetentionMs);
        Assert.Equal(-1, config.LogRetentionBytes);
        Assert.Equal(300000, config.LogRetentionCheckIntervalMs);
        Assert.Equal(1, config.LogFlushIntervalMessages);
        Assert.Null(config.LogFlushIntervalMs);
        Assert.Equal(4096, config.LogIndexIntervalBytes);
        Assert.Equal(TimestampType.CreateTime, config.LogMessageTimestampType);
        Assert.Equal(1, config.MinInsyncReplicas);
        Assert.Equal(50, config.OffsetsTopicNumPartitions);
        Assert.Equal(3, config.OffsetsTopicReplicationFactor); // Kafka's default; InternalTopics caps it at the cluster size
        Assert.Equal(0, config.GroupInitialRebalanceDelayMs);
        Assert.Equal(6000, config.GroupMinSessionTimeoutMs);
        Assert.Equal(1800000, config.GroupMaxSessionTimeoutMs);
        Assert.Equal(604800000, config.TransactionalIdExpirationMs);
        Assert.Null(config.Rack);
        Assert.Equal(new Uri("http://127.0.0.1:8080"), config.HttpListener);
        Assert.Equal(500, config.QueuedMaxRequests);
        Assert.Equal(600000, config.ConnectionsMaxIdleMs);
        Assert.Equal(57671680, config.FetchMaxBytes);
        Assert.True(config.IsBroker);
        Assert.True(config.IsController);
        Assert.Empty(config.ControllerQuorumVoters);
        Assert.Equal("PLAINTEXT", config.InterBrokerListenerName);
        Assert.Empty(config.NonDefaultValues());
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void Definitions_table_is_consistent()
    {
        Assert.Equal(BrokerConfig.ConfigDefinitions.Count, BrokerConfig.ConfigDefinitions.Select(d => d.Name).Distinct().Count());
        foreach (var definition in BrokerConfig.ConfigDefinitions)
        {
            definition.Parse(definition.Default); // every default passes its own validation
            Assert.False(string.IsNullOrWhiteSpace(definition.Documentation));
        }

        Assert.True(BrokerConfigDefinitions.TryGetByTopicConfig("retention.ms", out var d1));
        Assert.Equal("log.retention.ms", d1.Name);
        Assert.True(BrokerConfigDefinitions.TryGetByTopicConfig("max.message.bytes", out var d2));
        Assert.Equal("message.max.bytes", d2.Name);
        Assert.True(BrokerConfigDefinitions.TryGetByTopicConfig("message.timestamp.type", out var d3));
        Assert.Equal("log.message.timestamp.type", d3.Name);
        Assert.True(BrokerConfigDefinitions.TryGetByTopicConfig("cleanup.policy", out _));
        Assert.True(BrokerConfigDefinitions.TryGetByTopicConfig("segment.bytes", out _));
        Assert.True(BrokerConfigDefinitions.TryGetByTopicConfig("min.insync.replicas", out _));
    }

    [Fact]
    public void Describe_reports_source_and_topic_defaults_resolve_synonyms()
    {
        var config = Parse(("log.retention.hours", "1"), ("message.max.bytes", "2000"));

        var entries = config.Describe().ToDictionary(e => e.Name);
        Assert.Equal(BrokerConfig.ConfigDefinitions.Count, entries.Count);
        Assert.Equal(ConfigSource.StaticBrokerConfig, entries["message.max.bytes"].Source);
        Assert.Equal("2000", entries["message.max.bytes"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, entries["num.partitions"].Source);
        Assert.Equal("1", entries["num.partitions"].Value);
        Assert.True(entries["ssl.keystore.password"].IsSensitive);

        Assert.True(config.TryGetTopicConfigDefault("retention.ms", out var retention, out _));
        Assert.Equal("3600000", retention);
        Assert.Equal(ConfigSource.StaticBrokerConfig, config.GetTopicConfigDefaultSource("retention.ms"));
        Assert.True(config.TryGetTopicConfigDefault("max.message.bytes", out var maxMessage, out _));
        Assert.Equal("2000", maxMessage);
        Assert.Equal(ConfigSource.DefaultConfig, config.GetTopicConfigDefaultSource("segment.bytes"));
        Assert.False(config.TryGetTopicConfigDefault("no.such.config", out _, out _));
    }

    [Fact]
    public void Overrides_beat_environment_beat_file_beat_defaults()
    {
        var file = Path.Combine(_dir, "server.properties");
        File.WriteAllText(file, "num.partitions=2\nlog.dirs=/from/file\nmessage.max.bytes=100\nbroker.rack=file\n");
        var env = new Hashtable
        {
            ["SAMSA_LOG_DIRS"] = "/from/env",
            ["SAMSA_MESSAGE_MAX_BYTES"] = "200",
            ["KAFKA_NUM_PARTITIONS"] = "99",
            ["PATH"] = "/usr/bin",
        };

        var config = BrokerConfig.Parse(file, [Kv("message.max.bytes", "300")], env);

        Assert.Equal(2, config.NumPartitions);
        Assert.Equal(["/from/env"], config.LogDirs);
        Assert.Equal(300, config.MessageMaxBytes);
        Assert.Equal("file", config.Rack);
        Assert.Equal(1, config.DefaultReplicationFactor);
        Assert.Contains(("message.max.bytes", "300"), config.NonDefaultValues());
        Assert.Contains(("num.partitions", "2"), config.NonDefaultValues());
    }

    [Theory]
    [InlineData("LOG_DIRS", "log.dirs")]
    [InlineData("LOG_RETENTION_MS", "log.retention.ms")]
    [InlineData("SOME__UNDERSCORE", "some_underscore")]
    [InlineData("SOME___DASH", "some-dash")]
    public void Environment_names_map_like_the_kafka_docker_image(string name, string key) =>
        Assert.Equal(key, BrokerConfig.EnvironmentNameToKey(name));

    [Fact]
    public void Properties_syntax_comments_colon_whitespace_and_continuations()
    {
        const string text = """
            # a comment
              ! another comment
            num.partitions = 3
            broker.rack: rack-a
            log.dirs \
                /a,\
                /b
            compression.type   lz4
            key\=with\:escapes=v\u0041lue

            empty.value=
            trailing = spaced value   
            """;

        var values = JavaProperties.Parse(text);

        Assert.Equal("3", values["num.partitions"]);
        Assert.Equal("rack-a", values["broker.rack"]);
        Assert.Equal("/a,/b", values["log.dirs"]);
        Assert.Equal("lz4", values["compression.type"]);
        Assert.Equal("vAlue", values["key=with:escapes"]);
        Assert.Equal("", values["empty.value"]);
        Assert.Equal("spaced value", values["trailing"]);
        Assert.False(values.ContainsKey("#"));
        Assert.Equal(7, values.Count);
    }

    [Theory]
    [InlineData(null, null, null, 168 * 3_600_000L)]
    [InlineData(null, null, "2", 2 * 3_600_000L)]
    [InlineData(null, "5", "2", 5 * 60_000L)]
    [InlineData("1234", "5", "2", 1234L)]
    [InlineData("-1", null, null, -1L)]
    [InlineData(null, "-3", null, -1L)]
    public void Retention_ms_beats_minutes_beats_hours(string? ms, string? minutes, string? hours, long expected)
    {
        var values = new List<(string, string)>();
        if (ms is not null) values.Add(("log.retention.ms", ms));
        if (minutes is not null) values.Add(("log.retention.minutes", minutes));
        if (hours is not null) values.Add(("log.retention.hours", hours));

        Assert.Equal(expected, Parse([.. values]).LogRetentionMs);
    }

    [Fact]
    public void Roll_ms_beats_hours()
    {
        Assert.Equal(2 * 3_600_000L, Parse(("log.roll.hours", "2")).LogRollMs);
        Assert.Equal(500, Parse(("log.roll.hours", "2"), ("log.roll.ms", "500")).LogRollMs);
    }

    [Fact]
    public void Empty_host_binds_all_interfaces()
    {
        var config = Parse(("listeners", "PLAINTEXT://:9092"));

        var listener = Assert.Single(config.Listeners);
        Assert.Equal("0.0.0.0", listener.Host);
        Assert.True(listener.IsWildcard);
        Assert.Equal(9092, listener.Port);
        // Advertised: Kafka replaces a wildcard host with the machine's host name.
        Assert.False(Assert.Single(config.AdvertisedListeners).IsWildcard);
    }

    [Fact]
    public void Explicit_wildcard_and_ipv6_listeners()
    {
        var config = Parse(("listeners", "PLAINTEXT://0.0.0.0:9092,SSL://[::1]:9093"));

        Assert.Equal(new ListenerEndpoint("PLAINTEXT", SecurityProtocol.Plaintext, "0.0.0.0", 9092), config.Listeners[0]);
        Assert.Equal(new ListenerEndpoint("SSL", SecurityProtocol.Ssl, "::1", 9093), config.Listeners[1]);
        Assert.Equal("SSL://[::1]:9093", config.Listeners[1].ToString());
    }

    [Fact]
    public void Named_listeners_use_the_security_protocol_map()
    {
        var config = Parse(
            ("listeners", "INTERNAL://host:1,EXTERNAL://h2:2"),
            ("listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL"),
            ("advertised.listeners", "EXTERNAL://public.example.com:443"),
            ("inter.broker.listener.name", "INTERNAL"));

        Assert.Equal(
            [
                new ListenerEndpoint("INTERNAL", SecurityProtocol.Plaintext, "host", 1),
                new ListenerEndpoint("EXTERNAL", SecurityProtocol.SaslSsl, "h2", 2),
            ],
            config.Listeners);
        Assert.Equal([new ListenerEndpoint("EXTERNAL", SecurityProtocol.SaslSsl, "public.example.com", 443)], config.AdvertisedListeners);
        Assert.Equal("INTERNAL", config.InterBrokerListenerName);
    }

    [Theory]
    [InlineData("listeners", "INTERNAL://host:1", "INTERNAL")]
    [InlineData("listeners", "PLAINTEXT://host:70000", "70000")]
    [InlineData("listeners", "PLAINTEXT://host", "NAME://host:port")]
    [InlineData("listeners", "PLAINTEXT://a:1,PLAINTEXT://b:2", "more than once")]
    [InlineData("advertised.listeners", "PLAINTEXT://0.0.0.0:9092", "non-routable")]
    [InlineData("advertised.listeners", "OTHER://h:1", "OTHER")]
    public void Bad_listeners_are_refused(string key, string value, string expectedFragment)
    {
        var e = Assert.Throws<ConfigException>(() => Parse((key, value)));
        Assert.Contains(key, e.Message);
        Assert.Contains(expectedFragment, e.Message);
    }

    [Theory]
    [InlineData("message.max.bytes", "abc", "not an integer")]
    [InlineData("num.partitions", "0", "at least 1")]
    [InlineData("log.segment.bytes", "1e9", "not an integer")]
    [InlineData("auto.create.topics.enable", "yes", "true or false")]
    [InlineData("log.message.timestamp.type", "createtime", "CreateTime, LogAppendTime")]
    [InlineData("log.cleanup.policy", "delete,shred", "delete, compact")]
    [InlineData("process.roles", "", "at least one")]
    [InlineData("http.listener", "ftp://x", "http")]
    [InlineData("controller.quorum.voters", "1@host", "id@host:port")]
    [InlineData("group.min.session.timeout.ms", "3600000", "group.max.session.timeout.ms")]
    public void Bad_values_throw_naming_key_and_value(string key, string value, string expectedFragment)
    {
        var e = Assert.Throws<ConfigException>(() => Parse((key, value)));
        Assert.Contains(key, e.Message);
        Assert.Contains($"'{value}'", e.Message);
        Assert.Contains(expectedFragment, e.Message);
    }

    [Fact]
    public void Error_message_format()
    {
        var e = Assert.Throws<ConfigException>(() => Parse(("message.max.bytes", "abc")));
        Assert.StartsWith("Invalid value 'abc' for configuration message.max.bytes: not an integer", e.Message);
        Assert.Equal("message.max.bytes", e.Name);
    }

    [Fact]
    public void Unknown_keys_warn_but_are_kept()
    {
        var config = Parse(("no.such.thing", "1"), ("num.partitions", "4"));

        Assert.Contains(config.Warnings, w => w.Contains("no.such.thing", StringComparison.Ordinal));
        Assert.Equal("1", config.Values["no.such.thing"]);
        Assert.Equal(4, config.NumPartitions);
        Assert.DoesNotContain(config.NonDefaultValues(), v => v.Name == "no.such.thing");
    }

    [Fact]
    public void Log_dir_is_used_when_log_dirs_is_absent()
    {
        Assert.Equal(["/x"], Parse(("log.dir", "/x")).LogDirs);
        Assert.Equal(["/a", "/b"], Parse(("log.dir", "/x"), ("log.dirs", "/a, /b")).LogDirs);
    }

    [Fact]
    public void Passwords_are_not_logged_or_described()
    {
        var config = Parse(("ssl.keystore.password", "secret"));

        Assert.Contains(("ssl.keystore.password", "[hidden]"), config.NonDefaultValues());
        Assert.Null(config.Describe().Single(e => e.Name == "ssl.keystore.password").Value);
    }

    [Fact]
    public void Cluster_id_is_generated_once_and_reused()
    {
        var dirs = $"{Path.Combine(_dir, "a")},{Path.Combine(_dir, "b")}";

        var first = BrokerConfig.Load(null, [Kv("log.dirs", dirs)], s_noEnv);
        Assert.Equal(22, first.ClusterId.Length);
        Assert.True(File.Exists(Path.Combine(_dir, "a", MetaProperties.FileName)));
        Assert.True(File.Exists(Path.Combine(_dir, "b", MetaProperties.FileName)));

        var second = BrokerConfig.Load(null, [Kv("log.dirs", dirs)], s_noEnv);
        Assert.Equal(first.ClusterId, second.ClusterId);

        var meta = MetaProperties.Read(Path.Combine(_dir, "a"));
        Assert.NotNull(meta);
        Assert.Equal(first.ClusterId, meta.ClusterId);
        Assert.Equal(1, meta.NodeId);
    }

    [Fact]
    public void Meta_properties_mismatch_is_refused()
    {
        var dir = Path.Combine(_dir, "data");
        BrokerConfig.Load(null, [Kv("log.dirs", dir)], s_noEnv);

        var wrongNode = Assert.Throws<ConfigException>(() =>
            BrokerConfig.Load(null, [Kv("log.dirs", dir), Kv("node.id", "2")], s_noEnv));
        Assert.Contains("node.id", wrongNode.Message);

        var wrongCluster = Assert.Throws<ConfigException>(() =>
            BrokerConfig.Load(null, [Kv("log.dirs", dir), Kv("cluster.id", "someOtherCluster")], s_noEnv));
        Assert.Contains("someOtherCluster", wrongCluster.Message);
    }

    [Fact]
    public void Configured_cluster_id_is_persisted()
    {
        var dir = Path.Combine(_dir, "data");
        var config = BrokerConfig.Load(null, [Kv("log.dirs", dir), Kv("cluster.id", "MkU3OEVBNTcwNTJENDM2Qk")], s_noEnv);

        Assert.Equal("MkU3OEVBNTcwNTJENDM2Qk", config.ClusterId);
        Assert.Equal("MkU3OEVBNTcwNTJENDM2Qk", BrokerConfig.Load(null, [Kv("log.dirs", dir)], s_noEnv).ClusterId);
    }

    [Fact]
    public void Missing_properties_file_is_a_config_error()
    {
        var e = Assert.Throws<ConfigException>(() => BrokerConfig.Parse(Path.Combine(_dir, "nope.properties"), [], s_noEnv));
        Assert.Contains("nope.properties", e.Message);
    }
    [Fact]
    public void Example_server_properties_is_valid_and_uses_only_known_keys()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "config", "server.properties")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var config = BrokerConfig.Parse(Path.Combine(dir.FullName, "config", "server.properties"), [], s_noEnv);

        Assert.Empty(config.Warnings);
        Assert.Equal(Parse().Listeners, config.Listeners);
        Assert.Equal(1, config.LogFlushIntervalMessages);
    }
}
