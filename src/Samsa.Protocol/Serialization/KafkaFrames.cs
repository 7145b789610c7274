using System.Buffers;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Request and response frames: a 4-byte big-endian size, the header, the body.
/// Header versions follow the body's flexibility: request header v2 / response header v1 for flexible
/// versions, except that ApiVersions responses always use response header v0 (KIP-511), so a client can
/// parse the answer whatever version it asked for.
/// </summary>
public static class KafkaFrames
{
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

    // Both writers make two passes over the message plan: the first only counts bytes (and throws, before anything reaches
    // the output, if the body does not fit the version), the second writes behind the size prefix straight into the
    // output, so records are copied once (from the fetched buffer into the output) and nothing is staged in between.

    /// <summary>Writes size prefix, request header and body.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, RequestHeader header, object body)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(body);
        var counter = ByteCounter.Rent();
        int size;
        try
        {
            var sizing = new KafkaWriter(counter);
            WriteRequestHeader(sizing, header);
            MessageCodec.Write(sizing, body, header.ApiVersion);
            size = FrameSize(sizing.BytesWritten);
        }
        finally
        {
            ByteCounter.Return(counter);
        }
        var writer = BeginFrame(output, size);
        WriteRequestHeader(writer, header);
        MessageCodec.Write(writer, body, header.ApiVersion);
        EndFrame(writer, size);
    }

    /// <summary>Writes size prefix, response header and body.</summary>
    public static void WriteResponse(IBufferWriter<byte> output, ApiKey apiKey, short version, int correlationId, object body)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(body);
        var counter = ByteCounter.Rent();
        int size;
        try
        {
            var sizing = new KafkaWriter(counter);
            WriteResponseHeader(sizing, apiKey, version, correlationId);
            MessageCodec.Write(sizing, body, version);
            size = FrameSize(sizing.BytesWritten);
        }
        finally
        {
            ByteCounter.Return(counter);
        }
        var writer = BeginFrame(output, size);
        WriteResponseHeader(writer, apiKey, version, correlationId);
        MessageCodec.Write(writer, body, version);
        EndFrame(writer, size);
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

    private static int FrameSize(long size) =>
        size <= int.MaxValue - 4 ? (int)size : throw new ProtocolException($"A frame of {size} bytes is too large.");

    private static KafkaWriter BeginFrame(IBufferWriter<byte> output, int size)
    {
        var writer = new KafkaWriter(output);
        writer.WriteInt32(size);
        return writer;
    }

    private static void EndFrame(KafkaWriter writer, int size)
    {
        // Both passes run the same code over the same message, so this only fails on a codec bug.
        if (writer.BytesWritten != 4L + size)
            throw new InvalidOperationException($"Frame size changed between passes: counted {size} bytes, wrote {writer.BytesWritten - 4}.");
    }
}
