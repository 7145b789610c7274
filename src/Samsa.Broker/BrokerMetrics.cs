using System.Buffers.Binary;
using System.Collections.Concurrent;
using Samsa.Broker.Metrics;
using Samsa.Protocol;
using Samsa.Storage;

namespace Samsa.Broker;

/// <summary>
/// The broker's event counters: connections, requests per API (count and latency histogram), bytes and records per
/// topic, purgatory sizes, fsync latency. Hot-path updates are lock-free and allocation-free (after the first request
/// of an API or topic). <see cref="MetricsExporter"/> renders them together with gauges read from the node's state.
/// </summary>
public sealed class BrokerMetrics
{
    // Process-wide: storage raises flush timings through a static hook, and Partition (which has no metrics
    // instance) counts produce requests waiting for fsync. One node per process in production; in-process test
    // clusters see the sum of their nodes.
    private static readonly Histogram s_fsync = new(Histogram.FsyncBuckets);

    private readonly ConcurrentDictionary<ApiKey, ApiStats> _requests = new();
    private readonly ConcurrentDictionary<string, TopicStats> _topics = new(StringComparer.Ordinal);
    private long _connections;
    private long _connectionsTotal;
    private long _bytesReceived;

    static BrokerMetrics() => StorageMetrics.FlushCompleted += s_fsync.Observe;

    internal sealed class ApiStats
    {
        public readonly Histogram Duration = new(Histogram.RequestBuckets);
    }

    internal sealed class TopicStats
    {
        public long BytesIn;
        public long RecordsIn;
        public long BytesOut;
        public long RecordsOut;
    }

    /// <summary>Produce requests waiting for their batches to become durable (group commit), process-wide.</summary>
    public static Gauge ProducePurgatory { get; } = new();

    /// <summary>Fetch requests long-polling for data (fewer than min_bytes available, max_wait_ms not reached).</summary>
    public Gauge FetchPurgatory { get; } = new();

    /// <summary>Durations of log flush passes (fsync), process-wide.</summary>
    public static Histogram FsyncDuration => s_fsync;

    public long OpenConnections => Interlocked.Read(ref _connections);

    public long ConnectionsTotal => Interlocked.Read(ref _connectionsTotal);

    public long NetworkBytesReceived => Interlocked.Read(ref _bytesReceived);

    internal IEnumerable<KeyValuePair<ApiKey, ApiStats>> Requests => _requests;

    internal IEnumerable<KeyValuePair<string, TopicStats>> Topics => _topics;

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _connectionsTotal);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public void BytesReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    public void RecordRequest(ApiKey api, TimeSpan elapsed) =>
        _requests.GetOrAdd(api, static _ => new ApiStats()).Duration.Observe(elapsed);

    public void TopicBytesIn(string topic, long bytes, long records)
    {
        var stats = _topics.GetOrAdd(topic, static _ => new TopicStats());
        Interlocked.Add(ref stats.BytesIn, bytes);
        Interlocked.Add(ref stats.RecordsIn, records);
    }

    /// <summary>Counts fetched bytes and, from the v2 batch headers (records count at byte 57), fetched records.</summary>
    public void TopicBytesOut(string topic, ReadOnlyMemory<byte> batches)
    {
        var stats = _topics.GetOrAdd(topic, static _ => new TopicStats());
        Interlocked.Add(ref stats.BytesOut, batches.Length);
        Interlocked.Add(ref stats.RecordsOut, CountRecords(batches.Span));
    }

    /// <summary>Sum of the records counts of the whole v2 batches in <paramref name="batches"/>; a partial tail batch is not counted.</summary>
    internal static long CountRecords(ReadOnlySpan<byte> batches)
    {
        const int headerSize = 61, lengthOffset = 8, magicOffset = 16, countOffset = 57;
        long records = 0;
        while (batches.Length >= headerSize)
        {
            int batchLength = BinaryPrimitives.ReadInt32BigEndian(batches[lengthOffset..]);
            long size = 12L + batchLength;
            if (batchLength <= 0 || size > batches.Length) break;
            if (batches[magicOffset] == 2) records += Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(batches[countOffset..]));
            batches = batches[(int)size..];
        }
        return records;
    }
}
