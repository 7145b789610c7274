using System.Diagnostics;
using Samsa.Broker.Groups;
using Samsa.Broker.Replication;
using Samsa.Metadata;
using Samsa.Storage;

namespace Samsa.Broker.Metrics;

/// <summary>
/// Renders /metrics: the counters of <see cref="BrokerMetrics"/> plus gauges read at scrape time from the node's
/// state (partition logs, the metadata image, the group coordinator, the runtime). Runs on the HTTP listener's
/// thread; it allocates freely, the hot paths never do.
/// </summary>
internal sealed class MetricsExporter(BrokerMetrics metrics, ReplicaManager replicas, IMetadataLog metadata, GroupCoordinator groups, int nodeId,
    LogCleaner? cleaner = null)
{
    private static readonly string[] GroupStates = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"];
    private readonly long _startedTimestamp = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    public string Render()
    {
        var w = new PrometheusWriter();
        WriteNetwork(w);
        WriteRequests(w);
        WriteTopics(w);
        WriteStorage(w);
        WriteCleaner(w);
        WriteCluster(w);
        WriteGroups(w);
        WriteRuntime(w);
        return w.ToString();
    }

    private void WriteNetwork(PrometheusWriter w)
    {
        w.Family("samsa_connections", "gauge", "Open Kafka client connections.");
        w.Sample("samsa_connections", metrics.OpenConnections);
        w.Family("samsa_connections_total", "counter", "Kafka client connections accepted.");
        w.Sample("samsa_connections_total", metrics.ConnectionsTotal);
        w.Family("samsa_network_bytes_received_total", "counter", "Request bytes received, size prefixes included.");
        w.Sample("samsa_network_bytes_received_total", metrics.NetworkBytesReceived);
    }

    private void WriteRequests(PrometheusWriter w)
    {
        var apis = metrics.Requests.OrderBy(kv => kv.Key).Select(kv => (Api: kv.Key.ToString(), kv.Value.Duration)).ToList();
        w.Family("samsa_requests_total", "counter", "Requests handled, per Kafka API.");
        foreach (var (api, h) in apis) w.Sample("samsa_requests_total", h.Count, ("api", api));
        w.Family("samsa_request_duration_seconds", "histogram", "Time from a request's decoding to its response, per Kafka API (long polls included).");
        foreach (var (api, h) in apis) w.Histogram("samsa_request_duration_seconds", h, ("api", api));
        w.Family("samsa_produce_purgatory_size", "gauge", "Produce requests waiting for their records to be fsynced (group commit).");
        w.Sample("samsa_produce_purgatory_size", BrokerMetrics.ProducePurgatory.Value);
        w.Family("samsa_fetch_purgatory_size", "gauge", "Fetch requests long-polling for data.");
        w.Sample("samsa_fetch_purgatory_size", metrics.FetchPurgatory.Value);
    }

    private void WriteTopics(PrometheusWriter w)
    {
        var topics = metrics.Topics.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        Counter("samsa_topic_bytes_in_total", "Record batch bytes appended by producers, per topic.", s => Interlocked.Read(ref s.BytesIn));
        Counter("samsa_topic_records_in_total", "Records appended by producers, per topic.", s => Interlocked.Read(ref s.RecordsIn));
        Counter("samsa_topic_bytes_out_total", "Record batch bytes returned to consumers, per topic.", s => Interlocked.Read(ref s.BytesOut));
        Counter("samsa_topic_records_out_total", "Records returned to consumers, per topic.", s => Interlocked.Read(ref s.RecordsOut));

        void Counter(string name, string help, Func<BrokerMetrics.TopicStats, long> value)
        {
            w.Family(name, "counter", help);
            foreach (var (topic, stats) in topics) w.Sample(name, value(stats), ("topic", topic));
        }
    }

    private void WriteStorage(PrometheusWriter w)
    {
        w.Family("samsa_log_flush_duration_seconds", "histogram", "Duration of log flush passes (one fsync covers every write waiting at that moment).");
        w.Histogram("samsa_log_flush_duration_seconds", BrokerMetrics.FsyncDuration);

        var partitions = replicas.Partitions
            .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Index)
            .Select(p => (Labels: (Topic: p.Topic, Partition: p.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)), p.Log))
            .ToList();
        Gauge("samsa_partition_log_size_bytes", "Bytes in the partition's segment files.", l => l.SizeInBytes);
        Gauge("samsa_partition_log_start_offset", "First offset still in the log.", l => l.LogStartOffset);
        Gauge("samsa_partition_log_end_offset", "Offset the next appended record gets.", l => l.LogEndOffset);
        Gauge("samsa_partition_high_watermark", "Offset below which records are committed and readable by consumers.", l => l.HighWatermark);

        void Gauge(string name, string help, Func<Samsa.Storage.PartitionLog, long> value)
        {
            w.Family(name, "gauge", help);
            foreach (var (labels, log) in partitions)
                w.Sample(name, value(log), ("topic", labels.Topic), ("partition", labels.Partition));
        }
    }

    /// <summary>
    /// Log cleaner progress (Kafka's kafka.log:type=LogCleaner / LogCleanerManager MBeans): per compacted partition hosted
    /// here the dirty ratio and the end of its last pass (no sample before the first pass), plus totals over all passes.
    /// </summary>
    private void WriteCleaner(PrometheusWriter w)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var compacted = new List<(string Topic, string Partition, double DirtyRatio, DateTimeOffset? LastClean)>();
        foreach (var p in replicas.Partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Index))
        {
            var log = p.Log;
            if (!log.Config.CleanupCompact) continue;
            double ratio;
            try
            {
                ratio = log.DirtyRatio;
            }
            catch (ObjectDisposedException)
            {
                continue; // deleted or closed meanwhile
            }
            compacted.Add((p.Topic, p.Index.ToString(invariant), ratio, log.LastCleanTime));
        }
        w.Family("samsa_log_cleaner_dirty_ratio", "gauge",
            "Compacted partitions: dirty bytes / (clean + dirty bytes) of the closed segments; cleaned at min.cleanable.dirty.ratio.");
        foreach (var c in compacted)
            w.Sample("samsa_log_cleaner_dirty_ratio", c.DirtyRatio, ("topic", c.Topic), ("partition", c.Partition));
        w.Family("samsa_log_cleaner_last_clean_timestamp_seconds", "gauge",
            "Compacted partitions: Unix time the cleaner last finished a pass over the partition (absent if never cleaned).");
        foreach (var c in compacted)
            if (c.LastClean is { } at)
                w.Sample("samsa_log_cleaner_last_clean_timestamp_seconds", at.ToUnixTimeMilliseconds() / 1000.0, ("topic", c.Topic), ("partition", c.Partition));

        if (cleaner is null) return;
        w.Family("samsa_log_cleaner_passes_total", "counter", "Completed cleaning passes.");
        w.Sample("samsa_log_cleaner_passes_total", cleaner.Passes);
        w.Family("samsa_log_cleaner_bytes_read_total", "counter", "Bytes read by completed cleaning passes.");
        w.Sample("samsa_log_cleaner_bytes_read_total", cleaner.BytesRead);
        w.Family("samsa_log_cleaner_bytes_written_total", "counter", "Bytes written to cleaned segments by completed cleaning passes.");
        w.Sample("samsa_log_cleaner_bytes_written_total", cleaner.BytesWritten);
        if (cleaner.LastPass is { } last)
        {
            w.Family("samsa_log_cleaner_last_pass_duration_seconds", "gauge", "Duration of the most recent cleaning pass.");
            w.Sample("samsa_log_cleaner_last_pass_duration_seconds", last.Duration.TotalSeconds);
            w.Family("samsa_log_cleaner_last_pass_megabytes_per_second", "gauge", "Read throughput (MB/s) of the most recent cleaning pass.");
            w.Sample("samsa_log_cleaner_last_pass_megabytes_per_second", last.MegabytesPerSecond);
        }
    }

    private void WriteCluster(PrometheusWriter w)
    {
        var image = metadata.Image;
        int underReplicated = 0, offline = 0, total = 0;
        foreach (var topic in image.TopicsByName.Values)
            foreach (var p in topic.Partitions)
            {
                total++;
                if (p.Leader < 0) offline++;
                else if (p.Leader == nodeId && p.Isr.Length < p.Replicas.Length) underReplicated++;
            }
        w.Family("samsa_partitions", "gauge", "Partitions in the cluster metadata.");
        w.Sample("samsa_partitions", total);
        w.Family("samsa_under_replicated_partitions", "gauge", "Partitions led by this node whose ISR is smaller than their replica set.");
        w.Sample("samsa_under_replicated_partitions", underReplicated);
        w.Family("samsa_offline_partitions", "gauge", "Partitions without a leader.");
        w.Sample("samsa_offline_partitions", offline);
        // A single node is its own (only) controller; with the Raft quorum this becomes "is the quorum leader".
        w.Family("samsa_active_controller", "gauge", "1 when this node is the active controller.");
        w.Sample("samsa_active_controller", 1);
        w.Family("samsa_brokers", "gauge", "Registered brokers.");
        w.Sample("samsa_brokers", image.Brokers.Count);
    }

    private void WriteGroups(PrometheusWriter w)
    {
        var snapshots = groups.Shards.SelectMany(s => s.SnapshotForMetrics())
            .OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
        w.Family("samsa_consumer_groups", "gauge", "Consumer groups hosted by this node's coordinator, per state.");
        foreach (var state in GroupStates.Concat(snapshots.Select(g => g.State)).Distinct(StringComparer.Ordinal))
            w.Sample("samsa_consumer_groups", snapshots.Count(g => g.State == state), ("state", state));

        var rows = snapshots
            .SelectMany(g => g.Committed.OrderBy(c => c.Topic, StringComparer.Ordinal).ThenBy(c => c.Partition).Select(c => (g.GroupId, c)))
            .Select(x => (x.GroupId, x.c.Topic, Partition: x.c.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture),
                x.c.Offset, Hw: replicas.Get(x.c.Topic, x.c.Partition)?.HighWatermark))
            .ToList();
        w.Family("samsa_consumer_group_committed_offset", "gauge", "Committed offset of a group in a partition.");
        foreach (var r in rows)
            w.Sample("samsa_consumer_group_committed_offset", r.Offset, ("group", r.GroupId), ("topic", r.Topic), ("partition", r.Partition));
        w.Family("samsa_consumer_group_lag", "gauge", "High watermark minus committed offset (records not yet consumed), for partitions this node hosts.");
        foreach (var r in rows)
            if (r.Hw is { } hw)
                w.Sample("samsa_consumer_group_lag", Math.Max(0, hw - r.Offset), ("group", r.GroupId), ("topic", r.Topic), ("partition", r.Partition));
    }

    private void WriteRuntime(PrometheusWriter w)
    {
        w.Family("samsa_gc_collections_total", "counter", "Garbage collections, per generation.");
        for (int gen = 0; gen <= GC.MaxGeneration; gen++)
            w.Sample("samsa_gc_collections_total", GC.CollectionCount(gen), ("generation", gen.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        w.Family("samsa_gc_heap_bytes", "gauge", "Bytes currently allocated on the managed heap (live objects and garbage not yet collected).");
        w.Sample("samsa_gc_heap_bytes", GC.GetTotalMemory(forceFullCollection: false));
        w.Family("samsa_gc_committed_bytes", "gauge", "Memory committed by the GC for the managed heap as of the last collection (0 before the first).");
        w.Sample("samsa_gc_committed_bytes", GC.GetGCMemoryInfo().TotalCommittedBytes);
        w.Family("samsa_gc_allocated_bytes_total", "counter", "Bytes allocated on the managed heap since start.");
        w.Sample("samsa_gc_allocated_bytes_total", GC.GetTotalAllocatedBytes());
        w.Family("samsa_gc_pause_seconds_total", "counter", "Time the runtime was paused for garbage collection.");
        w.Sample("samsa_gc_pause_seconds_total", GC.GetTotalPauseDuration().TotalSeconds);
        w.Family("samsa_process_working_set_bytes", "gauge", "Physical memory used by the process.");
        w.Sample("samsa_process_working_set_bytes", Environment.WorkingSet);
        w.Family("samsa_process_start_time_seconds", "gauge", "Unix time the node started.");
        w.Sample("samsa_process_start_time_seconds", _startedAt.ToUnixTimeMilliseconds() / 1000.0);
        w.Family("samsa_process_uptime_seconds", "gauge", "Seconds since the node started.");
        w.Sample("samsa_process_uptime_seconds", Stopwatch.GetElapsedTime(_startedTimestamp).TotalSeconds);
        w.Family("samsa_threadpool_threads", "gauge", "Thread pool threads.");
        w.Sample("samsa_threadpool_threads", ThreadPool.ThreadCount);
    }
}
