using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Samsa.Commands;

/// <summary>Outcome of one perf run. <see cref="Bytes"/> counts record values only.</summary>
internal sealed record PerfResult(string Mode, long Records, long Bytes, double Seconds, LatencySummary? Latency, bool Complete, long Failed,
    PerfResult? Produce = null)
{
    public double RecordsPerSecond => Seconds > 0 ? Records / Seconds : 0;

    public double MegabytesPerSecond => Seconds > 0 ? Bytes / Seconds / (1024 * 1024) : 0;
}

/// <summary>
/// The once-a-second progress line on stderr: rate and (for produce) latency over the last interval. Counters are
/// updated from librdkafka's poll thread or the consumer loop and read by a timer thread.
/// </summary>
internal sealed class PerfProgress(string label, PerfOptions options, LatencyHistogram? latency)
{
    private long _records;
    private long _bytes;
    private long _latencySum;
    private long _latencyMax;
    private Timer? _timer;
    private long _lastRecords;
    private long _lastBytes;
    private long _lastTick;

    public void Start(long startTicks)
    {
        if (options.Quiet)
        {
            return;
        }

        _lastTick = startTicks;
        _timer = new Timer(_ => Print(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>One record done; <paramref name="micros"/> is its latency, or negative when none is measured.</summary>
    public void Add(int bytes, long micros)
    {
        Interlocked.Increment(ref _records);
        Interlocked.Add(ref _bytes, bytes);
        if (micros >= 0)
        {
            Interlocked.Add(ref _latencySum, micros);
            long max = Interlocked.Read(ref _latencyMax);
            if (micros > max)
            {
                Interlocked.CompareExchange(ref _latencyMax, micros, max);
            }
        }
    }

    public void Stop()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private void Print()
    {
        long now = Stopwatch.GetTimestamp();
        long records = Interlocked.Read(ref _records);
        long bytes = Interlocked.Read(ref _bytes);
        double seconds = Stopwatch.GetElapsedTime(_lastTick, now).TotalSeconds;
        long delta = records - _lastRecords;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{label}: {records} records, {delta / seconds:F0} records/s, {(bytes - _lastBytes) / seconds / (1024 * 1024):F2} MB/s");
        if (latency is not null)
        {
            long sum = Interlocked.Exchange(ref _latencySum, 0);
            long max = Interlocked.Exchange(ref _latencyMax, 0);
            line += string.Create(CultureInfo.InvariantCulture,
                $", latency avg {(delta > 0 ? sum / 1000.0 / delta : 0):F2} ms, max {max / 1000.0:F2} ms");
        }

        _lastRecords = records;
        _lastBytes = bytes;
        _lastTick = now;
        Console.Error.WriteLine(line);
    }
}

internal static class PerfReport
{
    public static void Write(PerfOptions options, PerfResult result)
    {
        if (options.Json)
        {
            var root = ToJson(result);
            root["topic"] = options.Topic;
            root["recordSize"] = options.RecordSize;
            if (options.Mode != PerfMode.Consume)
            {
                root["acks"] = options.Acks;
                root["compression"] = options.Compression;
                root["batchSize"] = options.BatchSize;
                root["lingerMs"] = options.LingerMs;
                root["targetThroughput"] = options.Throughput;
            }

            Output.WriteJson(root);
            return;
        }

        if (result.Produce is { } produce)
        {
            WriteText(produce, "send→ack");
        }

        WriteText(result, result.Mode == "end-to-end" ? "produce→consume" : "send→ack");
        if (!result.Complete)
        {
            Output.Info($"samsa: warning: {result.Failed} record(s) were not {(result.Mode == "produce" ? "acknowledged" : "received")}.");
        }
    }

    private static void WriteText(PerfResult result, string latencyLabel)
    {
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Mode}: {result.Records} records, {result.Bytes / (1024.0 * 1024):F2} MB in {result.Seconds:F3} s: " +
            $"{result.RecordsPerSecond:F1} records/s, {result.MegabytesPerSecond:F2} MB/s"));
        if (result.Latency is { } l)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Mode} latency ({latencyLabel}) ms: avg {l.Avg:F2}, p50 {l.P50:F2}, p95 {l.P95:F2}, p99 {l.P99:F2}, p99.9 {l.P999:F2}, max {l.Max:F2}"));
        }
    }

    private static JsonObject ToJson(PerfResult result)
    {
        var node = new JsonObject
        {
            ["mode"] = result.Mode,
            ["records"] = result.Records,
            ["bytes"] = result.Bytes,
            ["seconds"] = Math.Round(result.Seconds, 6),
            ["recordsPerSec"] = Math.Round(result.RecordsPerSecond, 1),
            ["mbPerSec"] = Math.Round(result.MegabytesPerSecond, 3),
            ["complete"] = result.Complete,
            ["failed"] = result.Failed,
        };
        if (result.Latency is { } l)
        {
            node["latencyMs"] = new JsonObject
            {
                ["avg"] = Math.Round(l.Avg, 3),
                ["p50"] = Math.Round(l.P50, 3),
                ["p95"] = Math.Round(l.P95, 3),
                ["p99"] = Math.Round(l.P99, 3),
                ["p99.9"] = Math.Round(l.P999, 3),
                ["max"] = Math.Round(l.Max, 3),
            };
        }

        if (result.Produce is { } produce)
        {
            node["produce"] = ToJson(produce);
        }

        return node;
    }
}
