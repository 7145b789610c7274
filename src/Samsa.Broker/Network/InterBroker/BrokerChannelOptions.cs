namespace Samsa.Broker.Network.InterBroker;

/// <summary>Settings of inter-broker connections (Kafka's NetworkClient settings for the replica fetcher and forwarding).</summary>
internal sealed record BrokerChannelOptions
{
    /// <summary>Client id in every request header; Kafka brokers use "broker-&lt;id&gt;-..." names, so do we.</summary>
    public string ClientId { get; init; } = "samsa-broker";

    /// <summary>Default bound on one request (connect excluded); a timed-out request closes the connection, as Kafka.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait after a failed connection; doubles per failure up to <see cref="ReconnectBackoffMax"/> (±20% jitter).</summary>
    public TimeSpan ReconnectBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest response frame accepted; a peer announcing more is treated as broken and disconnected.</summary>
    public int MaxResponseBytes { get; init; } = 100 * 1024 * 1024;

    /// <summary>Ask the peer for its ApiVersions on connect; requests without an explicit version use the highest common one.</summary>
    public bool NegotiateVersions { get; init; } = true;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
