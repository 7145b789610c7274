using System.Collections.Frozen;
using System.Globalization;

namespace Samsa.Broker.Configuration;

/// <summary>
/// Every broker config key Samsa knows, with Kafka's name, type and default. Where Samsa's default differs from
/// Kafka's (zero-config single node, durability) the documentation says so with "Samsa default".
/// DescribeConfigs lists exactly these keys; topic configs fall back to the keys carrying a TopicConfigName.
/// </summary>
public static class BrokerConfigDefinitions
{
    private const ConfigImportance High = ConfigImportance.High;
    private const ConfigImportance Medium = ConfigImportance.Medium;
    private const ConfigImportance Low = ConfigImportance.Low;

    private static readonly string LongMax = long.MaxValue.ToString(CultureInfo.InvariantCulture);
    private static readonly string IntMax = int.MaxValue.ToString(CultureInfo.InvariantCulture);

    /// <summary>All definitions, in documentation order.</summary>
    public static IReadOnlyList<ConfigDefinition> All { get; } = Build();

    private static readonly FrozenDictionary<string, ConfigDefinition> s_byName =
        All.ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, ConfigDefinition> s_byTopicConfig =
        All.Where(d => d.TopicConfigName is not null).ToFrozenDictionary(d => d.TopicConfigName!, StringComparer.Ordinal);

    public static bool TryGet(string name, out ConfigDefinition definition) =>
        s_byName.TryGetValue(name, out definition!);

    /// <summary>The broker key that supplies the default of a topic config (retention.ms → log.retention.ms).</summary>
    public static bool TryGetByTopicConfig(string topicConfigName, out ConfigDefinition definition) =>
        s_byTopicConfig.TryGetValue(topicConfigName, out definition!);

    private static ConfigDefinition Int(string name, string? @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.Int, @default, importance, doc);

    private static ConfigDefinition Long(string name, string? @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.Long, @default, importance, doc);

    private static ConfigDefinition Short(string name, string? @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.Short, @default, importance, doc);

    private static ConfigDefinition Bool(string name, string @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.Boolean, @default, importance, doc);

    private static ConfigDefinition Str(string name, string? @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.String, @default, importance, doc);

    private static ConfigDefinition List(string name, string? @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.List, @default, importance, doc);

    private static ConfigDefinition Password(string name, ConfigImportance importance, string doc) =>
        new(name, ConfigType.Password, null, importance, doc);

    private static List<ConfigDefinition> Build() =>
    [
        // --- node identity and roles -------------------------------------------------------------------------------
        List("process.roles", "broker,controller", High,
            "Roles this node plays. Samsa default: broker,controller (a combined single node); Kafka has no default.")
            with { ValidValues = ["broker", "controller"] },
        Int("node.id", "1", High,
            "Id of this node in the cluster, stored in meta.properties. Samsa default: 1; Kafka has no default.")
            with { Min = 0 },
        Str("cluster.id", null, High,
            "Cluster id. When absent Samsa generates one on first start and persists it in meta.properties under the " +
            "log dirs (like kafka-storage format); a configured value must match the stored one."),
        List("controller.quorum.voters", "", High,
            "Static controller quorum as id@host:port entries. Empty: this node is the only voter."),
        List("controller.quorum.bootstrap.servers", "", High,
            "Broker-only nodes: host:port of controller nodes' broker (inter-broker) listeners, where they fetch the " +
            "metadata log until they know the active controller. Samsa deviation: Kafka lists CONTROLLER listeners."),
        List("controller.listener.names", "", High,
            "Names of the listeners used by the controller quorum."),
        Str("broker.rack", null, Medium,
            "Rack of this broker, used for rack-aware replica assignment and follower fetching."),

        // --- network ------------------------------------------------------------------------------------------------
        List("listeners", "PLAINTEXT://127.0.0.1:9092", High,
            "Comma-separated NAME://host:port URIs to listen on. An empty host or 0.0.0.0 binds all interfaces; " +
            "port 0 picks an ephemeral port. Samsa default: PLAINTEXT://127.0.0.1:9092 (loopback only).")
            with { IsDynamic = true },
        List("advertised.listeners", null, High,
            "Listeners published to clients in metadata, when they differ from listeners (NAT, containers). " +
            "Default: the listeners, with a wildcard host replaced by this machine's host name.")
            with { IsDynamic = true },
        Str("listener.security.protocol.map",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", Low,
            "Maps listener names to security protocols as NAME:PROTOCOL pairs.")
            with { IsDynamic = true },
        Str("inter.broker.listener.name", null, Medium,
            "Listener used between brokers. Default: the listener using security.inter.broker.protocol."),
        Str("security.inter.broker.protocol", "PLAINTEXT", Medium,
            "Security protocol used between brokers when inter.broker.listener.name is not set.")
            with { ValidValues = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] },
        Str("http.listener", "http://127.0.0.1:8080", High,
            "Samsa-specific: URL of the HTTP endpoint (web console, REST APIs, /metrics). Empty disables it."),
        Int("num.network.threads", "3", High,
            "Accepted for compatibility; Samsa's network layer uses the .NET thread pool.")
            with { Min = 1, IsDynamic = true },
        Int("num.io.threads", "8", High,
            "Accepted for compatibility; Samsa's request handlers run on the .NET thread pool.")
            with { Min = 1, IsDynamic = true },
        Int("background.threads", "10", High,
            "Threads for background work such as segment deletion.")
            with { Min = 1, IsDynamic = true },
        Int("queued.max.requests", "500", High,
            "Requests one connection may have in flight before the broker stops reading from it.")
            with { Min = 1 },
        Int("socket.send.buffer.bytes", "102400", High,
            "SO_SNDBUF of accepted sockets; -1 uses the OS default.")
            with { Min = -1 },
        Int("socket.receive.buffer.bytes", "102400", High,
            "SO_RCVBUF of accepted sockets; -1 uses the OS default.")
            with { Min = -1 },
        Int("socket.request.max.bytes", "104857600", High,
            "Largest request frame accepted; a larger size prefix closes the connection.")
            with { Min = 1 },
        Int("socket.listen.backlog.size", "50", Medium,
            "Listen backlog of each listener socket.")
            with { Min = 1 },
        Long("connections.max.idle.ms", "600000", Medium,
            "Idle connections are closed after this many milliseconds.")
            with { Min = 1 },
        Int("max.connections", IntMax, Medium,
            "Maximum connections accepted by the broker across all listeners.")
            with { Min = 0, IsDynamic = true },
        Int("max.connections.per.ip", IntMax, Medium,
            "Maximum connections accepted from one IP address.")
            with { Min = 0, IsDynamic = true },

        // --- topics and requests ------------------------------------------------------------------------------------
        Bool("auto.create.topics.enable", "true", High,
            "Create a topic on first Metadata request or produce to it."),
        Bool("delete.topic.enable", "true", High,
            "Allow DeleteTopics."),
        Int("num.partitions", "1", Medium,
            "Default partition count of auto-created topics and of CreateTopics without a count.")
            with { Min = 1 },
        Int("default.replication.factor", "1", Medium,
            "Default replication factor of auto-created topics and of CreateTopics without a factor.")
            with { Min = 1 },
        Int("min.insync.replicas", "1", High,
            "Replicas that must acknowledge an acks=all write; fewer in the ISR fails it with NOT_ENOUGH_REPLICAS.")
            with { Min = 1, IsDynamic = true, TopicConfigName = "min.insync.replicas" },
        Bool("unclean.leader.election.enable", "false", High,
            "Allow an out-of-sync replica to become leader (may lose acknowledged data).")
            with { IsDynamic = true, TopicConfigName = "unclean.leader.election.enable" },
        Int("message.max.bytes", "1048588", High,
            "Largest record batch (after compression) the broker accepts.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "max.message.bytes" },
        Int("fetch.max.bytes", "57671680", Medium,
            "Largest total size of a fetch response.")
            with { Min = 1024 },
        Str("compression.type", "producer", High,
            "Compression of stored batches: producer keeps the producer's codec.")
            with {
                IsDynamic = true, TopicConfigName = "compression.type",
                ValidValues = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
            },
        Bool("auto.leader.rebalance.enable", "true", High,
            "Move leadership back to preferred replicas periodically."),
        Long("leader.imbalance.check.interval.seconds", "300", High,
            "Period of the preferred-leader check.")
            with { Min = 1 },

        // --- replication --------------------------------------------------------------------------------------------
        Long("replica.lag.time.max.ms", "30000", High,
            "A follower that has not caught up for this long leaves the ISR.")
            with { Min = 1 },
        Int("replica.fetch.max.bytes", "1048576", Medium,
            "Bytes per partition a follower asks for.")
            with { Min = 0 },
        Int("replica.fetch.response.max.bytes", "10485760", Medium,
            "Bytes per follower fetch response.")
            with { Min = 0 },
        Int("replica.fetch.wait.max.ms", "500", Medium,
            "Max wait of a follower fetch.")
            with { Min = 0 },
        Int("replica.fetch.min.bytes", "1", Medium,
            "Min bytes of a follower fetch response.")
            with { Min = 1 },
        Int("replica.fetch.backoff.ms", "1000", Medium,
            "Pause of a replica fetcher after a fetch error.")
            with { Min = 0 },
        Int("replica.socket.timeout.ms", "30000", Medium,
            "Socket timeout of follower fetches."),
        Int("num.replica.fetchers", "1", Medium,
            "Fetcher loops per source broker.")
            with { Min = 1, IsDynamic = true },

        // --- log storage --------------------------------------------------------------------------------------------
        Str("log.dir", "./samsa-data", High,
            "Data directory, used when log.dirs is not set. Samsa default: ./samsa-data (Kafka: /tmp/kafka-logs)."),
        List("log.dirs", null, High,
            "Comma-separated data directories; partitions are spread over them. Default: log.dir."),
        Str("metadata.log.dir", null, High,
            "Directory of the cluster metadata log. Default: the first log dir."),
        Int("log.segment.bytes", "1073741824", High,
            "Size at which a log segment is rolled.")
            with { Min = 14, IsDynamic = true, TopicConfigName = "segment.bytes" },
        Long("log.roll.ms", null, High,
            "Age at which a segment is rolled; default: log.roll.hours.")
            with { Min = 1, IsDynamic = true, TopicConfigName = "segment.ms" },
        Int("log.roll.hours", "168", High,
            "Age in hours at which a segment is rolled (secondary to log.roll.ms).")
            with { Min = 1 },
        Long("log.roll.jitter.ms", null, High,
            "Random jitter subtracted from the roll time; default: log.roll.jitter.hours.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "segment.jitter.ms" },
        Int("log.roll.jitter.hours", "0", High,
            "Roll jitter in hours (secondary to log.roll.jitter.ms).")
            with { Min = 0 },
        Long("log.retention.ms", null, High,
            "How long segments are kept; -1 keeps them forever. Takes precedence over minutes and hours.")
            with { Min = -1, IsDynamic = true, TopicConfigName = "retention.ms" },
        Int("log.retention.minutes", null, High,
            "Retention in minutes (secondary to log.retention.ms)."),
        Int("log.retention.hours", "168", High,
            "Retention in hours (tertiary to log.retention.ms)."),
        Long("log.retention.bytes", "-1", High,
            "Size a partition may reach before old segments are deleted; -1 means no limit.")
            with { IsDynamic = true, TopicConfigName = "retention.bytes" },
        Long("log.retention.check.interval.ms", "300000", Medium,
            "Period of the retention check.")
            with { Min = 1 },
        List("log.cleanup.policy", "delete", Medium,
            "delete (retention) and/or compact (keep the latest record per key).")
            with { IsDynamic = true, TopicConfigName = "cleanup.policy", ValidValues = ["delete", "compact"] },
        Long("log.segment.delete.delay.ms", "60000", High,
            "Delay between marking a segment .deleted and removing the file.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "file.delete.delay.ms" },
        Int("log.index.interval.bytes", "4096", Medium,
            "Bytes between offset index entries.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "index.interval.bytes" },
        Int("log.index.size.max.bytes", "10485760", Medium,
            "Maximum size of an offset or time index; a full index rolls the segment.")
            with { Min = 4, IsDynamic = true, TopicConfigName = "segment.index.bytes" },
        Long("log.flush.interval.messages", "1", High,
            "Messages appended to a partition before it is fsynced. Samsa default: 1, i.e. every acknowledged write " +
            "is on disk before the ack (one fsync covers every write waiting at that moment); " +
            "9223372036854775807 (Kafka's default) leaves flushing to the OS and replication.")
            with { Min = 1, IsDynamic = true, TopicConfigName = "flush.messages" },
        Long("log.flush.interval.ms", null, High,
            "Max time a message stays unflushed; default: log.flush.scheduler.interval.ms.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "flush.ms" },
        Long("log.flush.scheduler.interval.ms", LongMax, High,
            "Period of the time-based flush check."),
        Int("log.flush.offset.checkpoint.interval.ms", "60000", High,
            "Period of the recovery-point checkpoint.")
            with { Min = 0 },
        Bool("log.preallocate", "false", Medium,
            "Preallocate segment files.")
            with { IsDynamic = true, TopicConfigName = "preallocate" },
        Str("log.message.timestamp.type", "CreateTime", Medium,
            "CreateTime keeps the producer's timestamps; LogAppendTime overwrites them with the broker's clock.")
            with { IsDynamic = true, TopicConfigName = "message.timestamp.type", ValidValues = ["CreateTime", "LogAppendTime"] },
        Long("log.message.timestamp.before.max.ms", LongMax, Medium,
            "Largest allowed age of a CreateTime timestamp (KIP-937).")
            with { Min = 0, IsDynamic = true, TopicConfigName = "message.timestamp.before.max.ms" },
        Long("log.message.timestamp.after.max.ms", "3600000", Medium,
            "Largest allowed distance of a CreateTime timestamp into the future (KIP-937).")
            with { Min = 0, IsDynamic = true, TopicConfigName = "message.timestamp.after.max.ms" },
        Int("num.recovery.threads.per.data.dir", "2", High,
            "Threads per data dir used to recover logs at start-up.")
            with { Min = 1, IsDynamic = true },
        Bool("log.cleaner.enable", "true", Medium,
            "Run the log cleaner (needed by compacted topics such as __consumer_offsets)."),
        Int("log.cleaner.threads", "1", Medium,
            "Log cleaner threads.")
            with { Min = 0, IsDynamic = true },
        Long("log.cleaner.dedupe.buffer.size", "134217728", Medium,
            "Memory used by the cleaner's key map across all cleaner threads.")
            with { IsDynamic = true },
        Long("log.cleaner.backoff.ms", "15000", Medium,
            "Sleep of the cleaner when there is nothing to clean.")
            with { Min = 0, IsDynamic = true },
        Double("log.cleaner.io.max.bytes.per.second", "1.7976931348623157E308", Medium,
            "I/O cap (bytes read plus written per second) of all cleaner threads together.")
            with { Min = 0, IsDynamic = true },
        Double("log.cleaner.min.cleanable.ratio", "0.5", Medium,
            "Dirty ratio above which a log is eligible for cleaning.")
            with { Min = 0, Max = 1, IsDynamic = true, TopicConfigName = "min.cleanable.dirty.ratio" },
        Long("log.cleaner.delete.retention.ms", "86400000", Medium,
            "How long tombstones are kept on compacted topics.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "delete.retention.ms" },
        Long("log.cleaner.min.compaction.lag.ms", "0", Medium,
            "Minimum age of a record before it may be compacted.")
            with { Min = 0, IsDynamic = true, TopicConfigName = "min.compaction.lag.ms" },
        Long("log.cleaner.max.compaction.lag.ms", LongMax, Medium,
            "Maximum time a record stays uncompacted.")
            with { Min = 1, IsDynamic = true, TopicConfigName = "max.compaction.lag.ms" },

        // --- group coordinator --------------------------------------------------------------------------------------
        Int("offsets.topic.num.partitions", "50", High,
            "Partitions of __consumer_offsets (fixed once created).")
            with { Min = 1 },
        Short("offsets.topic.replication.factor", "3", High,
            "Replication factor of __consumer_offsets (Kafka's default), capped at the cluster's size so a single node works.")
            with { Min = 1 },
        Int("offsets.topic.segment.bytes", "104857600", High,
            "Segment size of __consumer_offsets.")
            with { Min = 1 },
        Int("offsets.retention.minutes", "10080", High,
            "Committed offsets of an empty group are expired after this long.")
            with { Min = 1 },
        Long("offsets.retention.check.interval.ms", "600000", High,
            "Period of the offset expiry check.")
            with { Min = 1 },
        Int("offsets.commit.timeout.ms", "5000", High,
            "Timeout of an offset commit waiting for its replication.")
            with { Min = 1 },
        Int("group.initial.rebalance.delay.ms", "0", Medium,
            "Time the coordinator waits for more members before the first rebalance of a new group. " +
            "Samsa default: 0 for a single node (Kafka: 3000)."),
        Int("group.min.session.timeout.ms", "6000", Medium,
            "Smallest session timeout a member may ask for."),
        Int("group.max.session.timeout.ms", "1800000", Medium,
            "Largest session timeout a member may ask for."),
        Int("group.max.size", IntMax, Medium,
            "Maximum members of one group.")
            with { Min = 1 },
        Int("group.consumer.heartbeat.interval.ms", "5000", Medium,
            "Heartbeat interval given to members of consumer protocol (KIP-848) groups.")
            with { Min = 1 },
        Int("group.consumer.session.timeout.ms", "45000", Medium,
            "A consumer protocol (KIP-848) member without a heartbeat for this long is removed from its group.")
            with { Min = 1 },
        List("group.consumer.assignors", "uniform,range", Medium,
            "Server-side assignors of consumer protocol (KIP-848) groups; the first is the default.")
            with { ValidValues = ["uniform", "range"] },
        List("group.coordinator.rebalance.protocols", "classic,consumer", Medium,
            "Rebalance protocols enabled: classic (JoinGroup/SyncGroup) and consumer (KIP-848).")
            with { ValidValues = ["classic", "consumer", "share", "streams"] },

        // --- transactions -------------------------------------------------------------------------------------------
        Int("transactional.id.expiration.ms", "604800000", High,
            "A transactional id with no activity for this long is expired.")
            with { Min = 1 },
        Int("transaction.max.timeout.ms", "900000", High,
            "Largest transaction timeout a producer may ask for.")
            with { Min = 1 },
        Int("transaction.state.log.num.partitions", "50", High,
            "Partitions of __transaction_state.")
            with { Min = 1 },
        Short("transaction.state.log.replication.factor", "3", High,
            "Replication factor of __transaction_state (Kafka's default), capped at the cluster's size so a single node works.")
            with { Min = 1 },
        Int("transaction.state.log.min.isr", "2", High,
            "min.insync.replicas of __transaction_state (Kafka's default), capped at its replication factor.")
            with { Min = 1 },
        Int("transaction.state.log.segment.bytes", "104857600", High,
            "Segment size of __transaction_state.")
            with { Min = 1 },
        Int("transaction.abort.timed.out.transaction.cleanup.interval.ms", "10000", Low,
            "Period of the check that aborts timed-out transactions.")
            with { Min = 1 },
        Int("transaction.remove.expired.transaction.cleanup.interval.ms", "3600000", Low,
            "Period of the check that removes expired transactional ids.")
            with { Min = 1 },
        Int("producer.id.expiration.ms", "86400000", Low,
            "Idempotent producer state without activity for this long is dropped.")
            with { Min = 1, IsDynamic = true },
        Int("max.incremental.fetch.session.cache.slots", "1000", Medium,
            "Incremental fetch sessions (KIP-227) kept by the broker.")
            with { Min = 0 },

        // --- security -----------------------------------------------------------------------------------------------
        Str("authorizer.class.name", "", Low,
            "Authorizer; empty disables authorization. Samsa accepts StandardAuthorizer's names for its ACL authorizer.")
            with { ValidValues = ["", "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"] },
        List("super.users", "", Low,
            "Principals (User:name;User:other or comma separated) allowed every operation."),
        Bool("allow.everyone.if.no.acl.found", "false", Low,
            "Allow access to resources that have no ACL."),
        List("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512", Medium,
            "SASL mechanisms offered. Samsa default: PLAIN,SCRAM-SHA-256,SCRAM-SHA-512 (Kafka: GSSAPI, unsupported).")
            with { IsDynamic = true },
        Str("sasl.mechanism.inter.broker.protocol", "PLAIN", Medium,
            "SASL mechanism between brokers. Samsa default: PLAIN (Kafka: GSSAPI)."),
        Str("ssl.keystore.type", "PKCS12", Medium,
            "Key store format. Samsa default: PKCS12 (Kafka: JKS, unsupported); PEM is also accepted.")
            with { ValidValues = ["PKCS12", "PEM"] },
        Str("ssl.keystore.location", null, High,
            "Path of the key store holding the broker certificate."),
        Password("ssl.keystore.password", High,
            "Password of the key store."),
        Password("ssl.key.password", High,
            "Password of the private key in the key store."),
        Str("ssl.truststore.type", "PKCS12", Medium,
            "Trust store format.")
            with { ValidValues = ["PKCS12", "PEM"] },
        Str("ssl.truststore.location", null, High,
            "Path of the trust store used to verify client certificates."),
        Password("ssl.truststore.password", High,
            "Password of the trust store."),
        Str("ssl.client.auth", "none", Medium,
            "Client certificate authentication: required, requested or none.")
            with { ValidValues = ["required", "requested", "none"] },
        Password("ssl.keystore.certificate.chain", High,
            "PEM certificate chain of the broker, inline (with ssl.keystore.type=PEM and ssl.keystore.key)."),
        Password("ssl.keystore.key", High,
            "PEM private key of the broker, inline (with ssl.keystore.type=PEM); encrypted keys use ssl.key.password."),
        Password("ssl.truststore.certificates", High,
            "PEM trusted certificates, inline (with ssl.truststore.type=PEM)."),
        List("ssl.enabled.protocols", "TLSv1.2,TLSv1.3", Medium,
            "TLS versions accepted on SSL and SASL_SSL listeners.")
            with { ValidValues = ["TLSv1.2", "TLSv1.3"] },
        Str("ssl.principal.mapping.rules", "DEFAULT", Low,
            "Rules mapping a client certificate's distinguished name to a principal name: RULE:pattern/replacement/[LU] " +
            "entries, then DEFAULT (the full DN, e.g. CN=alice,O=Example)."),
        Long("connections.max.reauth.ms", "0", Medium,
            "KIP-368: when positive, SASL sessions last at most this long; clients re-authenticate on the same connection " +
            "and a connection whose session expired is closed at its next request. 0 disables re-authentication.")
            with { Min = 0 },
        Int("connection.failed.authentication.delay.ms", "100", Low,
            "A failed authentication is answered, and its connection closed, this long after the attempt: a client " +
            "guessing passwords gets at most one try per delay per connection, so a burst costs the broker little.")
            with { Min = 0 },
        Int("sasl.server.max.receive.size", "16384", Low,
            "Largest request accepted on a SASL listener before authentication completes; a larger one closes the " +
            "connection. Samsa default: 16384 (Kafka: 524288); PLAIN and SCRAM messages are a few hundred bytes.")
            with { Min = 64 },
        Long("sasl.server.authentication.timeout.ms", "10000", Low,
            "Samsa only: a connection on a SASL listener that has not authenticated this long after connecting is closed.")
            with { Min = 1 },

        Int("quota.window.num", "11", Low,
            "Number of samples kept to compute client quota rates.")
            with { Min = 1 },
        Int("quota.window.size.seconds", "1", Low,
            "Time span of each client quota sample.")
            with { Min = 1 },

        // --- KRaft --------------------------------------------------------------------------------------------------
        Int("metadata.log.segment.bytes", "1073741824", High,
            "Segment size of the metadata log.")
            with { Min = 12 },
        Int("broker.heartbeat.interval.ms", "500", Medium,
            "Broker heartbeat period to the controller. Samsa default 500 ms (Kafka: 2000) so that a dead node is noticed " +
            "within a few seconds; six heartbeats fit in the session timeout."),
        Int("broker.session.timeout.ms", "3000", Medium,
            "A broker without heartbeats for this long is fenced and loses its leaderships. Samsa default 3000 ms " +
            "(Kafka: 9000): failover after a crash takes about this long plus an election."),
        Long("metadata.log.max.record.bytes.between.snapshots", "20971520", High,
            "Bytes of metadata batches between two snapshots of the metadata image (controllers).")
            with { Min = 1 },
        Int("controller.quorum.election.timeout.ms", "1000", High,
            "Raft election timeout of the metadata quorum: a voter that hears no leader for a random time between half " +
            "of this and this starts an election. Samsa keeps it at least 400 ms (DotNext snapshot installs need it).")
            with { Min = 400 },
    ];

    private static ConfigDefinition Double(string name, string @default, ConfigImportance importance, string doc) =>
        new(name, ConfigType.Double, @default, importance, doc);
}
