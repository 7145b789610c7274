using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration;

/// <summary>/metrics scraped after real traffic (Confluent.Kafka producer and consumer group): counters, histograms, gauges, and the text format.</summary>
public sealed partial class MetricsTests(ITestOutputHelper output)
{
    private const string Topic = "metrics-orders";
    private const string Group = "metrics-group";
    private const int Produced = 100;
    private const int Committed = 60;

    [Fact]
    public async Task Metrics_after_produce_and_consume_show_topic_api_fsync_partition_and_lag()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["offsets.topic.num.partitions"] = "1" });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 1 }]);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, Acks = Acks.All, LingerMs = 0 }).Build())
        {
            for (int i = 0; i < Produced; i++)
                await producer.ProduceAsync(Topic, new Message<string, string> { Key = $"k{i}", Value = $"value-{i}" });
        }

        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = Group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        };
        using (var consumer = new ConsumerBuilder<string, string>(consumerConfig).Build())
        {
            consumer.Subscribe(Topic);
            int read = 0;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (read < Committed && DateTime.UtcNow < deadline)
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null }) read++;
            Assert.Equal(Committed, read);
            consumer.Commit([new TopicPartitionOffset(Topic, 0, Committed)]);
            consumer.Close();
        }

        using var http = new HttpClient { BaseAddress = broker.Host.HttpEndpoint };
        Scrape scrape = null!;
        var until = DateTime.UtcNow.AddSeconds(20);
        do
        {
            var text = await http.GetStringAsync("metrics");
            scrape = Scrape.Parse(text);
            if (scrape.Find("samsa_consumer_group_lag", ("group", Group), ("topic", Topic), ("partition", "0")) == Produced - Committed) break;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < until);
        foreach (var line in scrape.Text.Split('\n').Where(l => l.Contains(Topic, StringComparison.Ordinal) || l.Contains("api=\"Produce\"", StringComparison.Ordinal)).Take(40))
            output.WriteLine(line);

        // Per topic.
        Assert.True(scrape.Get("samsa_topic_bytes_in_total", ("topic", Topic)) > 0);
        Assert.Equal(Produced, scrape.Get("samsa_topic_records_in_total", ("topic", Topic)));
        Assert.True(scrape.Get("samsa_topic_bytes_out_total", ("topic", Topic)) > 0);
        Assert.InRange(scrape.Get("samsa_topic_records_out_total", ("topic", Topic)), Committed, 10 * Produced);

        // Per API: rate (counter) and latency (histogram, cumulative buckets ending at +Inf = count).
        foreach (var api in new[] { "Produce", "Fetch" })
        {
            double count = scrape.Get("samsa_requests_total", ("api", api));
            Assert.True(count > 0, api);
            Assert.Equal(count, scrape.Get("samsa_request_duration_seconds_count", ("api", api)));
            Assert.Equal(count, scrape.Get("samsa_request_duration_seconds_bucket", ("api", api), ("le", "+Inf")));
            Assert.True(scrape.Get("samsa_request_duration_seconds_sum", ("api", api)) > 0);
            var buckets = scrape.Samples.Where(s => s.Name == "samsa_request_duration_seconds_bucket" && s.Labels["api"] == api).Select(s => s.Value).ToList();
            Assert.Equal(buckets.Order(), buckets);
        }

        // Storage, partitions, cluster.
        Assert.True(scrape.Get("samsa_log_flush_duration_seconds_count") > 0);
        var partition = new[] { ("topic", Topic), ("partition", "0") };
        Assert.Equal(Produced, scrape.Get("samsa_partition_log_end_offset", partition));
        Assert.Equal(Produced, scrape.Get("samsa_partition_high_watermark", partition));
        Assert.Equal(0, scrape.Get("samsa_partition_log_start_offset", partition));
        Assert.True(scrape.Get("samsa_partition_log_size_bytes", partition) > 0);
        Assert.Equal(0, scrape.Get("samsa_under_replicated_partitions"));
        Assert.Equal(0, scrape.Get("samsa_offline_partitions"));
        Assert.Equal(1, scrape.Get("samsa_active_controller"));
        Assert.Equal(0, scrape.Get("samsa_produce_purgatory_size"));
        Assert.True(scrape.Get("samsa_connections") >= 0);
        Assert.True(scrape.Get("samsa_connections_total") > 0);

        // Groups: lag = produced - committed, and the group counted by state (Empty once the consumer left).
        Assert.Equal(Committed, scrape.Get("samsa_consumer_group_committed_offset", ("group", Group), ("topic", Topic), ("partition", "0")));
        Assert.Equal(Produced - Committed, scrape.Get("samsa_consumer_group_lag", ("group", Group), ("topic", Topic), ("partition", "0")));
        Assert.True(scrape.Get("samsa_consumer_groups", ("state", "Empty")) >= 1);

        // Runtime.
        Assert.True(scrape.Get("samsa_gc_heap_bytes") > 0);
        Assert.True(scrape.Get("samsa_gc_allocated_bytes_total") > 0);
        Assert.True(scrape.Get("samsa_process_uptime_seconds") > 0);
        Assert.Contains(scrape.Samples, s => s.Name == "samsa_gc_collections_total" && s.Labels["generation"] == "0");

        var health = await http.GetAsync("health");
        Assert.True(health.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Metrics_show_cleaner_progress_of_a_compacted_partition()
    {
        const string topic = "metrics-compacted";
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["log.cleaner.backoff.ms"] = "50" });
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 1, new()
        {
            ["cleanup.policy"] = "compact", ["segment.bytes"] = "16384", ["min.cleanable.dirty.ratio"] = "0.01",
        });
        var before = DateTimeOffset.UtcNow;
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
               {
                   BootstrapServers = broker.BootstrapServers, Acks = Acks.All, LingerMs = 5, BatchSize = 8192,
               }).Build())
        {
            // Batches smaller than a segment; 20 keys updated 3000 times, so cleaning shrinks the closed segments.
            var acks = Enumerable.Range(0, 3000).Select(i => producer.ProduceAsync(topic,
                new Message<string, string> { Key = $"key-{i % 20}", Value = $"value-{i}-" + new string('x', 50) })).ToList();
            await Task.WhenAll(acks);
        }

        using var http = new HttpClient { BaseAddress = broker.Host.HttpEndpoint };
        var partition = new[] { ("topic", topic), ("partition", "0") };
        Scrape scrape;
        var until = DateTime.UtcNow.AddSeconds(30);
        do
        {
            scrape = Scrape.Parse(await http.GetStringAsync("metrics"));
            if (scrape.Find("samsa_log_cleaner_last_clean_timestamp_seconds", partition) is not null &&
                scrape.Get("samsa_log_cleaner_dirty_ratio", partition) < 0.5) break;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < until);
        foreach (var line in scrape.Text.Split('\n').Where(l => l.StartsWith("samsa_log_cleaner", StringComparison.Ordinal)))
            output.WriteLine(line);

        double lastClean = scrape.Get("samsa_log_cleaner_last_clean_timestamp_seconds", partition);
        Assert.InRange(lastClean, before.ToUnixTimeMilliseconds() / 1000.0 - 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 1);
        Assert.InRange(scrape.Get("samsa_log_cleaner_dirty_ratio", partition), 0, 0.5);
        Assert.True(scrape.Get("samsa_log_cleaner_passes_total") >= 1);
        double read = scrape.Get("samsa_log_cleaner_bytes_read_total"), written = scrape.Get("samsa_log_cleaner_bytes_written_total");
        Assert.True(written > 0 && read > written, $"read {read}, written {written}");
        Assert.True(scrape.Get("samsa_log_cleaner_last_pass_duration_seconds") > 0);
        Assert.True(scrape.Get("samsa_log_cleaner_last_pass_megabytes_per_second") > 0);
        // Only compacted partitions have cleaner gauges.
        Assert.DoesNotContain(scrape.Samples, s => s.Name == "samsa_log_cleaner_dirty_ratio" && s.Labels["topic"] != topic && !s.Labels["topic"].StartsWith("__", StringComparison.Ordinal));
    }

    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""\G([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)""")]
    private static partial Regex LabelPair();

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>A strict parse of the Prometheus text format: every line a comment or a sample; one TYPE per family; samples follow their family's TYPE.</summary>
    private sealed class Scrape
    {
        public required string Text { get; init; }
        public List<Sample> Samples { get; } = [];

        public static Scrape Parse(string text)
        {
            var scrape = new Scrape { Text = text };
            var types = new Dictionary<string, string>(StringComparer.Ordinal);
            string? current = null;
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0) continue;
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    Assert.Equal(4, parts.Length);
                    Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                    Assert.True(types.TryAdd(parts[2], parts[3]), $"family {parts[2]} has two TYPE lines");
                    current = parts[2];
                    continue;
                }
                if (line.StartsWith('#')) continue;
                var m = SampleLine().Match(line);
                Assert.True(m.Success, $"not a sample line: {line}");
                string name = m.Groups[1].Value;
                string family = current ?? "";
                bool belongs = name == family || (types.GetValueOrDefault(family) == "histogram" &&
                    (name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
                Assert.True(belongs, $"sample {name} outside its family (current TYPE {family})");
                var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                string labelText = m.Groups[2].Value;
                int at = 0;
                while (at < labelText.Length)
                {
                    var pair = LabelPair().Match(labelText, at);
                    Assert.True(pair.Success && pair.Index == at, $"bad labels in: {line}");
                    labels.Add(pair.Groups[1].Value, Regex.Unescape(pair.Groups[2].Value));
                    at += pair.Length;
                }
                string number = m.Groups[3].Value;
                double value = number switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    "NaN" => double.NaN,
                    _ => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
                scrape.Samples.Add(new Sample(name, labels, value));
            }
            return scrape;
        }

        public double? Find(string name, params (string Key, string Value)[] labels) =>
            Samples.FirstOrDefault(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))?.Value;

        public double Get(string name, params (string Key, string Value)[] labels) =>
            Find(name, labels) ?? throw new Xunit.Sdk.XunitException($"no sample {name}{{{string.Join(',', labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}}");
    }
}
