using BenchmarkDotNet.Attributes;
using Samsa.Protocol.Records;

namespace Samsa.Benchmarks.Protocol;

/// <summary>The per-request work on the produce hot path: CRC-32C and batch validation (no decompression).</summary>
[MemoryDiagnoser]
public class RecordBatchBenchmarks
{
    private byte[] _uncompressed = [];
    private byte[] _zstd = [];
    private static readonly RecordValidationOptions NoCountWalk = new() { CheckUncompressedRecordCount = false };

    [Params(100, 1000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _uncompressed = Build(CompressionType.None);
        _zstd = Build(CompressionType.Zstd);
    }

    private byte[] Build(CompressionType compression)
    {
        using var builder = new RecordBatchBuilder(compression);
        var value = new byte[1024];
        new Random(1).NextBytes(value);
        for (int i = 0; i < Records; i++) builder.Append(1_700_000_000_000 + i, System.Text.Encoding.UTF8.GetBytes("key-" + i), value);
        return builder.Build();
    }

    [Benchmark]
    public uint Crc32C_uncompressed_batch() => new RecordBatchHeader(_uncompressed).ComputeCrc();

    [Benchmark]
    public RecordBatchError Validate_uncompressed_batch() => RecordBatchReader.ValidateProducePayload(_uncompressed);

    /// <summary>The same validation without the per-record length walk: the walk's cost is the difference.</summary>
    [Benchmark]
    public RecordBatchError Validate_uncompressed_batch_no_count_walk() =>
        RecordBatchReader.ValidateProducePayload(_uncompressed, NoCountWalk);

    [Benchmark]
    public RecordBatchError Validate_zstd_batch() => RecordBatchReader.ValidateProducePayload(_zstd);
}
