using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Samsa.Protocol;

namespace Samsa.Broker;

/// <summary>
/// Broker counters, rendered in Prometheus text format on /metrics. Lock-free increments on the hot path.
/// </summary>
public sealed class BrokerMetrics
{
    private readonly ConcurrentDictionary<ApiKey, ApiStats> _requests = new();
    private readonly ConcurrentDictionary<string, TopicStats> _topics = new();
    private long _connections;
    private long _connectionsTotal;
    private long _bytesReceived;

    private sealed class ApiStats
    {
        public long Count;
        public long TotalMicros;
    }

    private sealed class TopicStats
    {
        public long BytesIn;
        public long RecordsIn;
        public long BytesOut;
    }

    public long OpenConnections => Interlocked.Read(ref _connections);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _connectionsTotal);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public void BytesReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    public void RecordRequest(ApiKey api, TimeSpan elapsed)
    {
        var stats = _requests.GetOrAdd(api, _ => new ApiStats());
        Interlocked.Increment(ref stats.Count);
        Interlocked.Add(ref stats.TotalMicros, (long)elapsed.TotalMicroseconds);
    }

    public void TopicBytesIn(string topic, long bytes, long records)
    {
        var stats = _topics.GetOrAdd(topic, _ => new TopicStats());
        Interlocked.Add(ref stats.BytesIn, bytes);
        Interlocked.Add(ref stats.RecordsIn, records);
    }

    public void TopicBytesOut(string topic, long bytes)
    {
        var stats = _topics.GetOrAdd(topic, _ => new TopicStats());
        Interlocked.Add(ref stats.BytesOut, bytes);
    }

    public string RenderPrometheus()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("# TYPE samsa_connections gauge");
        sb.AppendLine(inv, $"samsa_connections {OpenConnections}");
        sb.AppendLine("# TYPE samsa_connections_total counter");
        sb.AppendLine(inv, $"samsa_connections_total {Interlocked.Read(ref _connectionsTotal)}");
        sb.AppendLine("# TYPE samsa_network_bytes_received_total counter");
        sb.AppendLine(inv, $"samsa_network_bytes_received_total {Interlocked.Read(ref _bytesReceived)}");
        sb.AppendLine("# TYPE samsa_requests_total counter");
        foreach (var (api, s) in _requests.OrderBy(kv => kv.Key))
            sb.AppendLine(inv, $"samsa_requests_total{{api=\"{api}\"}} {Interlocked.Read(ref s.Count)}");
        sb.AppendLine("# TYPE samsa_request_seconds_total counter");
        foreach (var (api, s) in _requests.OrderBy(kv => kv.Key))
            sb.AppendLine(inv, $"samsa_request_seconds_total{{api=\"{api}\"}} {Interlocked.Read(ref s.TotalMicros) / 1e6}");
        sb.AppendLine("# TYPE samsa_topic_bytes_in_total counter");
        foreach (var (topic, s) in _topics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.AppendLine(inv, $"samsa_topic_bytes_in_total{{topic=\"{topic}\"}} {Interlocked.Read(ref s.BytesIn)}");
        sb.AppendLine("# TYPE samsa_topic_records_in_total counter");
        foreach (var (topic, s) in _topics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.AppendLine(inv, $"samsa_topic_records_in_total{{topic=\"{topic}\"}} {Interlocked.Read(ref s.RecordsIn)}");
        sb.AppendLine("# TYPE samsa_topic_bytes_out_total counter");
        foreach (var (topic, s) in _topics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.AppendLine(inv, $"samsa_topic_bytes_out_total{{topic=\"{topic}\"}} {Interlocked.Read(ref s.BytesOut)}");
        sb.AppendLine("# TYPE samsa_gc_heap_bytes gauge");
        sb.AppendLine(inv, $"samsa_gc_heap_bytes {GC.GetTotalMemory(false)}");
        return sb.ToString();
    }
}
