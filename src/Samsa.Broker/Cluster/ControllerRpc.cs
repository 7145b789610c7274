using System.Text.Json;
using System.Text.Json.Serialization;
using Samsa.Metadata;
using Samsa.Metadata.Quorum;

namespace Samsa.Broker.Cluster;

// Samsa's node-to-controller calls. They travel inside Kafka's Envelope API (58) — the API Kafka brokers use to
// forward requests to the controller (KIP-590) — with a JSON body instead of an embedded Kafka request, because what is
// forwarded is a metadata record batch validated on the sending node (optimistic concurrency on the log offset), not an
// admin request: every controller write, including ones added later (ACLs, SCRAM users, quotas), reaches the active
// controller without a forwarding path of its own. See ControllerChannel for the whole design.

[JsonPolymorphic(TypeDiscriminatorPropertyName = "rpc")]
[JsonDerivedType(typeof(AppendRpc), "append")]
[JsonDerivedType(typeof(HeartbeatRpc), "heartbeat")]
[JsonDerivedType(typeof(FetchRpc), "fetch")]
public abstract record ControllerRpcRequest;

/// <summary>Append <see cref="Batch"/> if the controller's log is at <see cref="ExpectedOffset"/> (-1: unconditionally).</summary>
public sealed record AppendRpc(long ExpectedOffset, MetadataRecord[] Batch) : ControllerRpcRequest;

/// <summary>Kafka's BrokerRegistration and BrokerHeartbeat in one call: the registration rides on every heartbeat.</summary>
public sealed record HeartbeatRpc(RegisterBrokerRecord Registration, long MetadataOffset, bool WantShutDown) : ControllerRpcRequest;

/// <summary>A broker-only node follows the metadata log: batches after <see cref="FromOffset"/>, or a snapshot.</summary>
public sealed record FetchRpc(long FromOffset, int MaxBatches) : ControllerRpcRequest;

public sealed record MetadataBatch(long Offset, MetadataRecord[] Records);

public enum RpcStatus
{
    Ok,
    NotController,
    Conflict,
    Error,
}

public sealed record ControllerRpcResponse
{
    public RpcStatus Status { get; init; }
    public string? Message { get; init; }

    /// <summary>The active controller as this node knows it (a hint for NotController), or null.</summary>
    public int? ControllerId { get; init; }

    /// <summary>Append: the offset after the batch; Conflict: the controller's offset; Fetch: the serving node's offset.</summary>
    public long Offset { get; init; }

    public HeartbeatOutcome? Heartbeat { get; init; }
    public MetadataSnapshot? Snapshot { get; init; }
    public MetadataBatch[]? Batches { get; init; }
}

public static class ControllerRpcJson
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Deserialize<T>(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"Empty {typeof(T).Name}.");
}
