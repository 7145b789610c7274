using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Records;
using Samsa.Storage;

// Builds a partition of the requested size (updates spread over `keys` keys), then times one cleaning pass and
// reports MB/s of log cleaned and peak memory (process working set and managed heap) during the pass.
long targetMiB = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
int keys = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
int valueBytes = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
string dir = Path.Combine(Path.GetTempPath(), "samsa-compaction-bench-" + Environment.ProcessId, "bench-0");
var config = LogConfig.Default with
{
    SegmentBytes = 128 * 1024 * 1024, CleanupCompact = true, CleanupDelete = false, FileDeleteDelayMs = 0,
};
var log = PartitionLog.Open(dir, "bench", 0, config, LogFlushPolicy.GroupCommit, TimeProvider.System, NullLogger.Instance);
try
{
    var value = new byte[valueBytes];
    Random.Shared.NextBytes(value);
    var rng = new Random(42);
    var watch = Stopwatch.StartNew();
    long records = 0;
    using var builder = new RecordBatchBuilder();
    while (log.SizeInBytes < targetMiB * 1024 * 1024)
    {
        builder.Reset();
        for (int i = 0; i < 500; i++)
            builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Encoding.UTF8.GetBytes("key-" + rng.Next(keys)), value);
        records += 500;
        var r = log.AppendAsLeader(builder.Build(), 0, AppendOrigin.Client);
        if (!r.IsSuccess) throw new InvalidOperationException(r.Error.ToString());
    }
    log.Roll();
    log.Flush();
    log.HighWatermark = log.LogEndOffset;
    long before = log.SizeInBytes;
    Console.WriteLine($"built {before / 1048576.0:F0} MiB, {records:N0} records over {keys:N0} keys, {log.SegmentCount} segments in {watch.Elapsed.TotalSeconds:F1} s");

    GC.Collect();
    using var proc = Process.GetCurrentProcess();
    proc.Refresh();
    long wsBefore = proc.WorkingSet64;
    long peakHeap = 0, peakWs = 0;
    using var stop = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            proc.Refresh();
            peakWs = Math.Max(peakWs, proc.WorkingSet64);
            await Task.Delay(20);
        }
    });
    using var cleaner = new LogCleaner(() => [log], CleanerConfig.Default, TimeProvider.System);
    watch.Restart();
    var stats = cleaner.CleanOnce() ?? throw new InvalidOperationException("nothing cleaned");
    double seconds = watch.Elapsed.TotalSeconds;
    await stop.CancelAsync();
    await sampler;
    Console.WriteLine($"cleaned in {seconds:F2} s: {before / 1e6 / seconds:F0} MB/s of log ({stats.BytesRead / 1e6 / seconds:F0} MB/s read incl. the map pass, {stats.BytesWritten / 1e6:F1} MB written)");
    Console.WriteLine($"records {stats.RecordsRead:N0} → {stats.RecordsRetained:N0}; size {before / 1048576.0:F0} MiB → {log.SizeInBytes / 1048576.0:F0} MiB; keys in map {stats.KeysInMap:N0}");
    Console.WriteLine($"peak working set {peakWs / 1048576.0:F0} MiB (before the pass {wsBefore / 1048576.0:F0} MiB), peak managed heap {peakHeap / 1048576.0:F0} MiB " +
                      $"(offset map {CleanerConfig.Default.DedupeBufferSize / 1048576} MiB log.cleaner.dedupe.buffer.size)");
}
finally
{
    log.Delete();
    Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
}
