using System.Globalization;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Replication;

/// <summary>The replica.* broker configs, with Kafka's names and defaults.</summary>
public sealed record ReplicationOptions
{
    /// <summary>replica.lag.time.max.ms: an ISR follower that has not caught up for this long is removed from the ISR.</summary>
    public long ReplicaLagTimeMaxMs { get; init; } = 30_000;

    /// <summary>replica.fetch.max.bytes: bytes per partition a follower asks for (at least one batch is always returned).</summary>
    public int FetchMaxBytes { get; init; } = 1024 * 1024;

    /// <summary>replica.fetch.response.max.bytes: bytes per follower fetch response.</summary>
    public int FetchResponseMaxBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>replica.fetch.wait.max.ms: how long the leader holds a follower fetch when there is nothing new.</summary>
    public int FetchWaitMaxMs { get; init; } = 500;

    /// <summary>replica.fetch.min.bytes.</summary>
    public int FetchMinBytes { get; init; } = 1;

    /// <summary>replica.fetch.backoff.ms: pause of a fetcher after an error (leader unreachable, not leader any more).</summary>
    public int FetchBackoffMs { get; init; } = 1000;

    /// <summary>replica.socket.timeout.ms: bound on one follower request beyond its wait time.</summary>
    public int SocketTimeoutMs { get; init; } = 30_000;

    /// <summary>num.replica.fetchers: fetcher loops (each with its own connection) per leader.</summary>
    public int NumReplicaFetchers { get; init; } = 1;

    public static ReplicationOptions From(BrokerConfig config)
    {
        long Long(string name) => Convert.ToInt64(config.Get(name), CultureInfo.InvariantCulture);
        int Int(string name) => Convert.ToInt32(config.Get(name), CultureInfo.InvariantCulture);
        return new ReplicationOptions
        {
            ReplicaLagTimeMaxMs = Long("replica.lag.time.max.ms"),
            FetchMaxBytes = Int("replica.fetch.max.bytes"),
            FetchResponseMaxBytes = Int("replica.fetch.response.max.bytes"),
            FetchWaitMaxMs = Int("replica.fetch.wait.max.ms"),
            FetchMinBytes = Int("replica.fetch.min.bytes"),
            FetchBackoffMs = Int("replica.fetch.backoff.ms"),
            SocketTimeoutMs = Int("replica.socket.timeout.ms"),
            NumReplicaFetchers = Int("num.replica.fetchers"),
        };
    }
}
