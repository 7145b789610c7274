using System.Buffers;
using System.Buffers.Binary;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Request and response frames: a 4-byte big-endian size, the header, the body.
/// Header versions follow the body's flexibility: request header v2 / response header v1 for flexible
/// versions, except that ApiVersions responses always use response header v0 (KIP-511), so a client can
/// parse the answer whatever version it asked for.
/// </summary>
public static class KafkaFrames
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? _scratch;

    // Scratch buffers larger than this are not kept between frames.
    private const int MaxRetainedScratch = 1 << 20;

    public static short RequestHeaderVersion(ApiKey apiKey, short apiVersion)
    {
        if (MessageRegistry.RequestType(apiKey) is { } type && MessageRegistry.Info(type).FlexibleVersions.Contains(apiVersion))
            return 2;
        // ControlledShutdown v0 is the only request that uses header v0 (no client id).
        return apiKey == ApiKey.ControlledShutdown && apiVersion == 0 ? (short)0 : (short)1;
    }

    public static short ResponseHeaderVersion(ApiKey apiKey, short apiVersion)
    {
        if (apiKey == ApiKey.ApiVersions) return 0;
        return MessageRegistry.ResponseType(apiKey) is { } type && MessageRegistry.Info(type).FlexibleVersions.Contains(apiVersion)
            ? (short)1
            : (short)0;
    }

    /// <summary>
    /// Reads a request header (the frame's size prefix already consumed). For an unknown api key the header
    /// is read as v1; the caller rejects the request.
    /// </summary>
    public static RequestHeader ReadRequestHeader(KafkaReader reader)
    {
        var apiKey = (ApiKey)reader.ReadInt16();
        short apiVersion = reader.ReadInt16();
        int correlationId = reader.ReadInt32();
        short headerVersion = RequestHeaderVersion(apiKey, apiVersion);
        string? clientId = headerVersion >= 1 ? reader.ReadNullableString() : null;
        if (headerVersion >= 2) reader.SkipTaggedFields();
        return new RequestHeader(apiKey, apiVersion, correlationId, clientId);
    }

    public static void WriteRequestHeader(KafkaWriter writer, RequestHeader header)
    {
        short headerVersion = RequestHeaderVersion(header.ApiKey, header.ApiVersion);
        writer.WriteInt16((short)header.ApiKey);
        writer.WriteInt16(header.ApiVersion);
        writer.WriteInt32(header.CorrelationId);
        if (headerVersion >= 1) writer.WriteNullableString(header.ClientId);
        if (headerVersion >= 2) writer.WriteEmptyTaggedFields();
    }

    public static void WriteResponseHeader(KafkaWriter writer, ApiKey apiKey, short apiVersion, int correlationId)
    {
        writer.WriteInt32(correlationId);
        if (ResponseHeaderVersion(apiKey, apiVersion) >= 1) writer.WriteEmptyTaggedFields();
    }

    /// <summary>Reads a request body of the type registered for the header's api key and version.</summary>
    public static object ReadRequestBody(KafkaReader reader, RequestHeader header)
    {
        var type = MessageRegistry.RequestType(header.ApiKey)
            ?? throw new ProtocolException($"Unknown api key {(short)header.ApiKey}.", ErrorCode.UnsupportedVersion);
        return MessageCodec.Read(type, reader, header.ApiVersion);
    }

    /// <summary>Writes size prefix, request header and body.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, RequestHeader header, object body)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(body);
        var scratch = RentScratch();
        var writer = new KafkaWriter(scratch);
        WriteRequestHeader(writer, header);
        MessageCodec.Write(writer, body, header.ApiVersion);
        Flush(output, scratch);
    }

    /// <summary>Writes size prefix, response header and body.</summary>
    public static void WriteResponse(IBufferWriter<byte> output, ApiKey apiKey, short version, int correlationId, object body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var scratch = RentScratch();
        var writer = new KafkaWriter(scratch);
        WriteResponseHeader(writer, apiKey, version, correlationId);
        MessageCodec.Write(writer, body, version);
        Flush(output, scratch);
    }

    /// <summary>Reads a response frame (without its size prefix): header then body.</summary>
    public static (int CorrelationId, T Body) ReadResponse<T>(ReadOnlyMemory<byte> frameWithoutSizePrefix, ApiKey apiKey, short version)
        where T : class, new()
    {
        var reader = new KafkaReader(frameWithoutSizePrefix);
        int correlationId = reader.ReadInt32();
        if (ResponseHeaderVersion(apiKey, version) >= 1) reader.SkipTaggedFields();
        return (correlationId, MessageCodec.Read<T>(reader, version));
    }

    private static ArrayBufferWriter<byte> RentScratch()
    {
        var scratch = _scratch ??= new ArrayBufferWriter<byte>(4096);
        scratch.ResetWrittenCount();
        // Taken out while in use so a nested call on this thread cannot share it.
        _scratch = null;
        return scratch;
    }

    private static void Flush(IBufferWriter<byte> output, ArrayBufferWriter<byte> scratch)
    {
        var payload = scratch.WrittenSpan;
        var span = output.GetSpan(4 + payload.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, payload.Length);
        payload.CopyTo(span[4..]);
        output.Advance(4 + payload.Length);
        if (scratch.Capacity <= MaxRetainedScratch) _scratch = scratch;
    }
}
