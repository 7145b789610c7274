using System.Buffers;
using BenchmarkDotNet.Attributes;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Benchmarks.Protocol;

/// <summary>Decode of a Produce request and encode of a Fetch response through the table-driven codec.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private byte[] _produceFrame = [];
    private FetchResponse _fetch = new();
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);

    [GlobalSetup]
    public void Setup()
    {
        var records = new byte[16 * 1024];
        var produce = new ProduceRequest
        {
            Acks = -1, TimeoutMs = 30000,
            TopicData = [new() { Name = "bench", PartitionData = [.. Enumerable.Range(0, 6).Select(p => new ProduceRequest.PartitionProduceData { Index = p, Records = records })] }],
        };
        var buffer = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(buffer, new RequestHeader(ApiKey.Produce, 9, 1, "bench"), produce);
        _produceFrame = buffer.WrittenSpan[4..].ToArray();
        _fetch = new FetchResponse
        {
            Responses = [new() { Topic = "bench", TopicId = Guid.NewGuid(), Partitions = [.. Enumerable.Range(0, 6).Select(p => new FetchResponse.PartitionData { PartitionIndex = p, HighWatermark = 1000, LastStableOffset = 1000, LogStartOffset = 0, Records = records })] }],
        };
    }

    [Benchmark]
    public object Decode_produce_request_6_partitions()
    {
        var reader = new KafkaReader(_produceFrame);
        var header = KafkaFrames.ReadRequestHeader(reader);
        return MessageCodec.Read(typeof(ProduceRequest), reader, header.ApiVersion);
    }

    [Benchmark]
    public int Encode_fetch_response_6_partitions()
    {
        _output.ResetWrittenCount();
        KafkaFrames.WriteResponse(_output, ApiKey.Fetch, 13, 1, _fetch);
        return _output.WrittenCount;
    }
}
