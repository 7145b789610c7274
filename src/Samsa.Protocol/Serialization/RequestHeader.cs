namespace Samsa.Protocol.Serialization;

/// <summary>
/// A Kafka request header. v0: api key, api version, correlation id; v1 adds the (nullable, never compact)
/// client id; v2 adds a tagged-field section.
/// </summary>
public sealed record RequestHeader(ApiKey ApiKey, short ApiVersion, int CorrelationId, string? ClientId);
