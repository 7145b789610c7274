using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Benchmarks.Storage;

/// <summary>Append (offset patching, index maintenance, file write; no fsync) and read-by-offset on a real log.</summary>
[MemoryDiagnoser]
public class SegmentAppendBenchmarks
{
    private string _dir = "";
    private PartitionLog _log = null!;
    private byte[] _batch = [];
    private long _appended;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "samsa-bench-" + Guid.NewGuid().ToString("N"));
        _log = PartitionLog.Open(_dir, "bench", 0, LogConfig.Default, LogFlushPolicy.Interval(long.MaxValue, long.MaxValue),
            TimeProvider.System, NullLogger.Instance);
        using var builder = new RecordBatchBuilder();
        var value = new byte[1024];
        for (int i = 0; i < 16; i++) builder.Append(1_700_000_000_000 + i, null, value);
        _batch = builder.Build();
        for (int i = 0; i < 10_000; i++) Append();
        _log.HighWatermark = _log.LogEndOffset;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.Close();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public long Append()
    {
        var copy = _batch.AsSpan().ToArray();
        _appended += _log.AppendAsLeader(copy, 0, AppendOrigin.Client).RecordCount;
        return _appended;
    }

    [Benchmark]
    public int Read_64KiB_at_random_offset()
    {
        long offset = Random.Shared.NextInt64(0, _log.HighWatermark);
        return _log.Read(offset, 64 * 1024, _log.HighWatermark, minOneBatch: true).Records.Length;
    }
}
