using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using Samsa.Protocol.Serialization;
using Samsa.Storage;

namespace Samsa.Benchmarks.Protocol;

/// <summary>
/// The broker's consume path for one partition: read 1 MiB of batches from a real log (page cache) and encode the
/// Fetch v13 response frame into a <see cref="Pipe"/> (as into the Kestrel connection), which is then drained.
/// </summary>
[MemoryDiagnoser]
public class FetchPathBenchmarks
{
    private const int FetchBytes = 1 << 20;

    private string _dir = "";
    private PartitionLog _log = null!;
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Guid _topicId = Guid.NewGuid();

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "samsa-bench-" + Guid.NewGuid().ToString("N"));
        _log = PartitionLog.Open(_dir, "bench", 0, LogConfig.Default, LogFlushPolicy.Interval(long.MaxValue, long.MaxValue),
            TimeProvider.System, NullLogger.Instance);
        using var builder = new RecordBatchBuilder();
        var value = new byte[1024];
        for (int i = 0; i < 16; i++) builder.Append(1_700_000_000_000 + i, null, value);
        var batch = builder.Build();
        for (int i = 0; i < 4 * 1024; i++) _log.AppendAsLeader(batch.AsSpan().ToArray(), 0, AppendOrigin.Client);
        _log.HighWatermark = _log.LogEndOffset;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.Close();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Fresh array per read (the original path).</summary>
    [Benchmark(Baseline = true)]
    public long Read_and_encode_1MiB_fetch()
    {
        var read = _log.Read(0, FetchBytes, _log.HighWatermark, minOneBatch: true);
        return Encode(read.Records);
    }

    /// <summary>Pooled read, returned after the response is written (the broker's path).</summary>
    [Benchmark]
    public long Read_pooled_and_encode_1MiB_fetch()
    {
        var read = _log.ReadPooled(0, FetchBytes, _log.HighWatermark, minOneBatch: true, out var buffer);
        using (buffer) return Encode(read.Records);
    }

    private long Encode(ReadOnlyMemory<byte> records)
    {
        var response = new FetchResponse
        {
            Responses =
            [
                new()
                {
                    Topic = "bench", TopicId = _topicId,
                    Partitions = [new() { PartitionIndex = 0, HighWatermark = _log.HighWatermark, LastStableOffset = _log.HighWatermark, LogStartOffset = 0, Records = records }],
                },
            ],
        };
        KafkaFrames.WriteResponse(_pipe.Writer, ApiKey.Fetch, 13, 1, response);
        _pipe.Writer.FlushAsync().GetAwaiter().GetResult();
        if (!_pipe.Reader.TryRead(out var result)) throw new InvalidOperationException("nothing written");
        long length = result.Buffer.Length;
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }
}
