using System.Buffers;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

public sealed class FrameTests
{
    private static string Hex(Action<KafkaWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new KafkaWriter(buffer));
        return Convert.ToHexString(buffer.WrittenSpan);
    }

    private static string Frame(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Convert.ToHexString(buffer.WrittenSpan);
    }

    [Fact]
    public void HeaderVersions()
    {
        Assert.Equal(0, KafkaFrames.RequestHeaderVersion(ApiKey.ControlledShutdown, 0));
        Assert.Equal(1, KafkaFrames.RequestHeaderVersion(ApiKey.ApiVersions, 2));
        Assert.Equal(2, KafkaFrames.RequestHeaderVersion(ApiKey.ApiVersions, 3));
        // Versions newer than we know keep the flexible header (KIP-511: a client may probe with a newer ApiVersions).
        Assert.Equal(2, KafkaFrames.RequestHeaderVersion(ApiKey.ApiVersions, 99));
        Assert.Equal(1, KafkaFrames.RequestHeaderVersion((ApiKey)999, 5));
        Assert.Equal(0, KafkaFrames.ResponseHeaderVersion(ApiKey.ApiVersions, 3));
        Assert.Equal(0, KafkaFrames.ResponseHeaderVersion(ApiKey.ApiVersions, 0));
        Assert.Equal(0, KafkaFrames.ResponseHeaderVersion((ApiKey)999, 5));
        if (MessageRegistry.ResponseType(ApiKey.Metadata) is { } metadata)
        {
            var flexible = MessageRegistry.Info(metadata).FlexibleVersions;
            Assert.Equal(1, KafkaFrames.ResponseHeaderVersion(ApiKey.Metadata, flexible.Min));
            Assert.Equal(0, KafkaFrames.ResponseHeaderVersion(ApiKey.Metadata, (short)(flexible.Min - 1)));
        }
    }

    [Fact]
    public void RequestHeaderV0HasNoClientId()
    {
        var header = new RequestHeader(ApiKey.ControlledShutdown, 0, 5, "ignored");
        Assert.Equal("0007" + "0000" + "00000005", Hex(w => KafkaFrames.WriteRequestHeader(w, header)));
        var read = KafkaFrames.ReadRequestHeader(new KafkaReader(CodecTestHelpers.Hex("0007000000000005")));
        Assert.Equal(header with { ClientId = null }, read);
    }

    [Fact]
    public void RequestHeaderV1HasNullableClientId()
    {
        var header = new RequestHeader(ApiKey.ApiVersions, 2, 7, "ab");
        Assert.Equal("0012" + "0002" + "00000007" + "0002" + "6162", Hex(w => KafkaFrames.WriteRequestHeader(w, header)));
        var nullClient = header with { ClientId = null };
        Assert.Equal("0012000200000007FFFF", Hex(w => KafkaFrames.WriteRequestHeader(w, nullClient)));
        Assert.Equal(nullClient, KafkaFrames.ReadRequestHeader(new KafkaReader(CodecTestHelpers.Hex("0012000200000007FFFF"))));
    }

    [Fact]
    public void RequestHeaderV2KeepsANonCompactClientIdThenTaggedFields()
    {
        var header = new RequestHeader(ApiKey.ApiVersions, 3, 1, "ab");
        Assert.Equal("0012" + "0003" + "00000001" + "0002" + "6162" + "00", Hex(w => KafkaFrames.WriteRequestHeader(w, header)));
        // Unknown header tags are skipped.
        var reader = new KafkaReader(CodecTestHelpers.Hex("0012 0003 00000001 0002 6162 01 05 02 AAAA"));
        Assert.Equal(header, KafkaFrames.ReadRequestHeader(reader));
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void UnknownApiKeyIsReadAsHeaderV1()
    {
        var reader = new KafkaReader(CodecTestHelpers.Hex("03E7 0009 0000002A 0001 78 FFEE"));
        var header = KafkaFrames.ReadRequestHeader(reader);
        Assert.Equal(new RequestHeader((ApiKey)999, 9, 42, "x"), header);
        Assert.Equal(2, reader.Remaining);
        Assert.Throws<ProtocolException>(() => KafkaFrames.ReadRequestBody(reader, header));
    }

    [Fact]
    public void ResponseHeaders()
    {
        Assert.Equal("0000002A", Hex(w => KafkaFrames.WriteResponseHeader(w, ApiKey.ApiVersions, 3, 42)));
        if (MessageRegistry.ResponseType(ApiKey.Metadata) is { } metadata)
        {
            short flexible = MessageRegistry.Info(metadata).FlexibleVersions.Min;
            Assert.Equal("0000002A00", Hex(w => KafkaFrames.WriteResponseHeader(w, ApiKey.Metadata, flexible, 42)));
            Assert.Equal("0000002A", Hex(w => KafkaFrames.WriteResponseHeader(w, ApiKey.Metadata, (short)(flexible - 1), 42)));
        }
    }

    [Fact]
    public void ApiVersionsRequestV0Frame()
    {
        var header = new RequestHeader(ApiKey.ApiVersions, 0, 1, "c");
        // size 11 | key 18 | version 0 | correlation 1 | client id "c" | empty body
        Assert.Equal("0000000B" + "0012" + "0000" + "00000001" + "0001" + "63",
            Frame(o => KafkaFrames.WriteRequest(o, header, new ApiVersionsRequest())));
    }

    [Fact]
    public void ApiVersionsRequestV3Frame()
    {
        var header = new RequestHeader(ApiKey.ApiVersions, 3, 1, "c");
        var body = new ApiVersionsRequest { ClientSoftwareName = "samsa", ClientSoftwareVersion = "1.0" };
        // header v2: ... client id "c" (int16 length), no header tags; body: compact "samsa", compact "1.0", no tags
        string expectedBody = "06" + "73616D7361" + "04" + "312E30" + "00";
        string expectedHeader = "0012" + "0003" + "00000001" + "0001" + "63" + "00";
        int size = (expectedHeader.Length + expectedBody.Length) / 2;
        Assert.Equal(size.ToString("X8") + expectedHeader + expectedBody, Frame(o => KafkaFrames.WriteRequest(o, header, body)));

        var frame = CodecTestHelpers.Hex(expectedHeader + expectedBody);
        var reader = new KafkaReader(frame);
        var readHeader = KafkaFrames.ReadRequestHeader(reader);
        var readBody = Assert.IsType<ApiVersionsRequest>(KafkaFrames.ReadRequestBody(reader, readHeader));
        Assert.Equal(header, readHeader);
        Assert.Equal("samsa", readBody.ClientSoftwareName);
        Assert.Equal("1.0", readBody.ClientSoftwareVersion);
        Assert.Equal(0, reader.Remaining);
    }

    private static ApiVersionsResponse SampleResponse() => new()
    {
        ErrorCode = 0,
        ApiKeys = [new() { ApiKey = 18, MinVersion = 0, MaxVersion = 4 }],
        ThrottleTimeMs = 0,
    };

    [Fact]
    public void ApiVersionsResponseV0Frame()
    {
        // header v0: correlation id; body: error 0, array(1) of (18, 0, 4); no throttle time in v0
        string expected = "00000007" + "0000" + "00000001" + "0012" + "0000" + "0004";
        Assert.Equal("00000010" + expected, Frame(o => KafkaFrames.WriteResponse(o, ApiKey.ApiVersions, 0, 7, SampleResponse())));
        var (correlationId, body) = KafkaFrames.ReadResponse<ApiVersionsResponse>(CodecTestHelpers.Hex(expected), ApiKey.ApiVersions, 0);
        Assert.Equal(7, correlationId);
        Assert.Equal(18, Assert.Single(body.ApiKeys).ApiKey);
        Assert.Equal(4, body.ApiKeys[0].MaxVersion);
    }

    [Fact]
    public void ApiVersionsResponseV3FrameUsesHeaderV0AndCompactEncodings()
    {
        // header v0 (KIP-511): correlation id only; body: error 0, compact array(1) of (18, 0, 4, no tags),
        // throttle 0, and an empty tagged section because every tagged field holds its default
        string expected = "00000007" + "0000" + "02" + "0012" + "0000" + "0004" + "00" + "00000000" + "00";
        Assert.Equal("00000013" + expected, Frame(o => KafkaFrames.WriteResponse(o, ApiKey.ApiVersions, 3, 7, SampleResponse())));
        var (correlationId, body) = KafkaFrames.ReadResponse<ApiVersionsResponse>(CodecTestHelpers.Hex(expected), ApiKey.ApiVersions, 3);
        Assert.Equal(7, correlationId);
        Assert.Equal(-1, body.FinalizedFeaturesEpoch);
        Assert.Empty(body.SupportedFeatures);
    }

    [Fact]
    public void ApiVersionsResponseV3TaggedFieldsAreWrittenInTagOrderWhenNonDefault()
    {
        var response = SampleResponse();
        response.FinalizedFeaturesEpoch = 5;
        response.SupportedFeatures = [new() { Name = "x", MinVersion = 1, MaxVersion = 2 }];
        string expected = "0000" + "02" + "0012" + "0000" + "0004" + "00" + "00000000"
            + "02"                                             // two tagged fields
            + "00" + "08" + "02" + "0278" + "0001" + "0002" + "00" // tag 0 SupportedFeatures (8 bytes)
            + "01" + "08" + "0000000000000005";                // tag 1 FinalizedFeaturesEpoch
        Assert.Equal(expected, Convert.ToHexString(CodecTestHelpers.Encode(response, 3)));
        var read = MessageCodec.Read<ApiVersionsResponse>(new KafkaReader(CodecTestHelpers.Hex(expected)), 3);
        Assert.Equal(5, read.FinalizedFeaturesEpoch);
        Assert.Equal("x", Assert.Single(read.SupportedFeatures).Name);
        Assert.False(read.ZkMigrationReady);
    }

    [Fact]
    public void ThrottleTimeIsIgnorableInV0()
    {
        var response = SampleResponse();
        response.ThrottleTimeMs = 100;
        var read = MessageCodec.Read<ApiVersionsResponse>(new KafkaReader(CodecTestHelpers.Encode(response, 0)), 0);
        Assert.Equal(0, read.ThrottleTimeMs);
    }

    private static FetchResponse LargeFetch(string? topic)
    {
        var records = new byte[200 * 1024 + 3];
        new Random(6).NextBytes(records);
        return new FetchResponse
        {
            Responses = [new() { Topic = topic!, Partitions = [new() { PartitionIndex = 2, HighWatermark = 9, Records = records }] }],
        };
    }

    [Theory]
    [InlineData(4)]
    [InlineData(12)]
    public void LargeResponsesAreWrittenAcrossSegmentsWithTheRightSizePrefix(short version)
    {
        var response = LargeFetch("t");
        var contiguous = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteResponse(contiguous, ApiKey.Fetch, version, 3, response);
        var segmented = new SegmentedWriter();
        KafkaFrames.WriteResponse(segmented, ApiKey.Fetch, version, 3, response);

        var frame = contiguous.WrittenSpan.ToArray();
        Assert.Equal(frame, segmented.ToArray());
        Assert.True(segmented.Segments > 3, $"segments: {segmented.Segments}");
        Assert.Equal(frame.Length - 4, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame));
        var (correlationId, body) = KafkaFrames.ReadResponse<FetchResponse>(frame.AsMemory(4), ApiKey.Fetch, version);
        Assert.Equal(3, correlationId);
        Assert.Equal(response.Responses[0].Partitions[0].Records!.Value.ToArray(), body.Responses[0].Partitions[0].Records!.Value.ToArray());
    }

    [Fact]
    public void AResponseTheVersionCannotCarryWritesNothing()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ProtocolException>(() => KafkaFrames.WriteResponse(output, ApiKey.Fetch, 4, 3, LargeFetch(topic: null)));
        Assert.Equal(0, output.WrittenCount);
    }

    /// <summary>Hands out spans of exactly the size asked for (at least one byte), each in its own array, like a pipe's segments.</summary>
    private sealed class SegmentedWriter : IBufferWriter<byte>
    {
        private readonly List<byte[]> _written = [];
        private byte[] _current = [];

        public int Segments => _written.Count;

        public void Advance(int count) => _written.Add(_current[..count]);

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 1)];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public byte[] ToArray() => [.. _written.SelectMany(b => b)];
    }

    [Fact]
    public void TruncatedFramesAreRejected()
    {
        var full = CodecTestHelpers.Hex("00000007" + "0000" + "00000001" + "0012" + "0000" + "0004");
        for (int cut = 0; cut < full.Length; cut++)
        {
            var prefix = full.AsMemory(0, cut);
            Assert.Throws<ProtocolException>(() => KafkaFrames.ReadResponse<ApiVersionsResponse>(prefix, ApiKey.ApiVersions, 0));
        }
        var request = CodecTestHelpers.Hex("0012 0003 00000001 0001 63 00");
        for (int cut = 0; cut < request.Length - 1; cut++)
        {
            var prefix = request.AsMemory(0, cut);
            Assert.Throws<ProtocolException>(() => KafkaFrames.ReadRequestHeader(new KafkaReader(prefix)));
        }
    }
}
