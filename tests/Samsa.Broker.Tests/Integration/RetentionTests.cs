using Confluent.Kafka;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Log lifecycle seen from clients: retention by time and by size deletes whole old segments and moves the log start
/// offset; DeleteRecords moves it to any offset; consumers below it are told OFFSET_OUT_OF_RANGE and reset.
/// </summary>
public sealed class RetentionTests
{
    private const int SegmentBytes = 16384;

    private static readonly Dictionary<string, string> FastRetentionCheck = new() { ["log.retention.check.interval.ms"] = "200" };

    [Fact]
    public async Task Retention_ms_deletes_old_segments_and_consumers_at_offset_0_reset_to_the_new_log_start()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await TestBroker.StartAsync(FastRetentionCheck);
        const string topic = "retention-ms";
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 1,
            new() { ["segment.bytes"] = SegmentBytes.ToString(), ["retention.ms"] = "60000" });

        // An hour-old stretch rolls several segments, then a current stretch: only segments of old records expire.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await ProduceAsync(broker.BootstrapServers, topic, 0, 600, now - 3_600_000);
        await ProduceAsync(broker.BootstrapServers, topic, 600, 100, now);

        var (low, high) = await WaitForLogStartAsync(broker.BootstrapServers, topic, l => l > 0, ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"retention.ms: log start {low}, high watermark {high}, segments {string.Join(",", SegmentBaseOffsets(broker.DataDir, topic))}");
        Assert.Equal(700, high);
        Assert.InRange(low, 1, 600);
        Assert.Contains(broker.Logs.Lines, l => l.Contains("due to retention.ms 60000", StringComparison.Ordinal));
        Assert.Equal(low, SegmentBaseOffsets(broker.DataDir, topic)[0]);

        using (var client = await DurabilityWireClient.ConnectAsync(broker.Host.BoundEndpoints[0].Port, ct))
        {
            Assert.Equal(low, await client.ListOffsetAsync(topic, 0, -2, ct));
            var fetch = await client.FetchAsync(topic, 0, 0, ct);
            Assert.Equal((short)ErrorCode.OffsetOutOfRange, fetch.ErrorCode);
            Assert.Equal(1, fetch.ErrorCode);
            Assert.Equal(low, fetch.LogStartOffset);
            var atStart = await client.FetchAsync(topic, 0, low, ct);
            Assert.Equal(0, atStart.ErrorCode);
            Assert.True(atStart.Records is { Length: > 0 });
        }

        var consumed = ConsumeFromZero(broker.BootstrapServers, topic, (int)(high - low));
        Assert.Equal(Enumerable.Range((int)low, (int)(high - low)).Select(i => (long)i), consumed.Select(r => r.Offset.Value));
        Assert.Equal("value-" + low, consumed[0].Message.Value[..("value-" + low).Length]);
    }

    [Fact]
    public async Task Retention_bytes_keeps_the_log_within_the_limit()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await TestBroker.StartAsync(FastRetentionCheck);
        const string topic = "retention-bytes";
        const int retentionBytes = 40_000;
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 1,
            new() { ["segment.bytes"] = SegmentBytes.ToString(), ["retention.bytes"] = retentionBytes.ToString() });
        await ProduceAsync(broker.BootstrapServers, topic, 0, 2000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        // Kafka's rule: delete the oldest segments while what remains would still be ≥ retention.bytes.
        var (low, high) = await WaitForLogStartAsync(broker.BootstrapServers, topic,
            _ => SegmentSizes(broker.DataDir, topic).Sum() < retentionBytes + SegmentBytes, ct);
        var sizes = SegmentSizes(broker.DataDir, topic);
        TestContext.Current.TestOutputHelper?.WriteLine($"retention.bytes: log start {low}, high watermark {high}, segment sizes {string.Join(",", sizes)} = {sizes.Sum()}");
        Assert.InRange(sizes.Sum(), retentionBytes, retentionBytes + sizes[0] - 1);
        Assert.Equal(2000, high);
        Assert.True(low > 0);
        Assert.Equal(low, SegmentBaseOffsets(broker.DataDir, topic)[0]);
        Assert.Contains(broker.Logs.Lines, l => l.Contains($"due to retention.bytes {retentionBytes}", StringComparison.Ordinal));

        var consumed = ConsumeFromZero(broker.BootstrapServers, topic, (int)(high - low));
        Assert.Equal(high - low, consumed.Count);
        Assert.Equal(low, consumed[0].Offset.Value);
    }

    [Fact]
    public async Task DeleteRecords_moves_the_low_watermark_and_it_survives_a_restart()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await TestBroker.StartAsync();
        const string topic = "delete-records";
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 1, new() { ["segment.bytes"] = SegmentBytes.ToString() });
        await ProduceAsync(broker.BootstrapServers, topic, 0, 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var segmentsBefore = SegmentBaseOffsets(broker.DataDir, topic);
        Assert.True(segmentsBefore.Count >= 4, $"expected several segments, found {segmentsBefore.Count}");

        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            var result = await admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, 333)]);
            Assert.Equal(333, Assert.Single(result).Offset.Value);
        }
        // Segments wholly below 333 are gone; the one holding 333 stays.
        var segments = SegmentBaseOffsets(broker.DataDir, topic);
        Assert.Equal(segmentsBefore.Where(b => b <= 333).Max(), segments[0]);
        Assert.Equal(segmentsBefore.Count(b => b >= segments[0]), segments.Count);

        for (int restart = 0; restart < 2; restart++)
        {
            var (low, high) = Watermarks(broker.BootstrapServers, topic);
            Assert.Equal((333L, 1000L), (low, high));
            using (var client = await DurabilityWireClient.ConnectAsync(broker.Host.BoundEndpoints[0].Port, ct))
            {
                Assert.Equal(1, (await client.FetchAsync(topic, 0, 332, ct)).ErrorCode);
                Assert.Equal(0, (await client.FetchAsync(topic, 0, 333, ct)).ErrorCode);
            }
            var consumed = ConsumeFromZero(broker.BootstrapServers, topic, 667);
            Assert.Equal(Enumerable.Range(333, 667).Select(i => (long)i), consumed.Select(r => r.Offset.Value));
            await broker.RestartAsync(); // the log start offset is checkpointed, not derived from segment names
        }
    }

    /// <summary>Records "value-{i}" plus padding (~120 bytes each) in batches of at most ~4 KB, so segments roll every ~130 records.</summary>
    private static async Task ProduceAsync(string bootstrap, string topic, int from, int count, long timestamp)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5, BatchSize = 4096,
        };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var results = await Task.WhenAll(Enumerable.Range(from, count).Select(i => producer.ProduceAsync(new TopicPartition(topic, 0),
            new Message<string, string>
            {
                Key = "key-" + i, Value = $"value-{i}-" + new string('x', 80), Timestamp = new Timestamp(timestamp, TimestampType.CreateTime),
            })));
        Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
    }

    private static (long Low, long High) Watermarks(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "wm" }).Build();
        var wm = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10));
        return (wm.Low.Value, wm.High.Value);
    }

    private static async Task<(long Low, long High)> WaitForLogStartAsync(string bootstrap, string topic, Func<long, bool> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var wm = Watermarks(bootstrap, topic);
            if (wm.Low > 0 && condition(wm.Low)) return wm;
            if (DateTime.UtcNow > deadline) Assert.Fail($"The log start offset of {topic} stayed at {wm.Low} (high watermark {wm.High}).");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>A consumer positioned at offset 0 with auto.offset.reset=earliest: it must recover from OFFSET_OUT_OF_RANGE.</summary>
    private static List<ConsumeResult<string, string>> ConsumeFromZero(string bootstrap, string topic, int expected)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "from-zero-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, 0));
        var results = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (r is not null && !r.IsPartitionEOF) results.Add(r);
        }
        return results;
    }

    private static string PartitionDir(string dataDir, string topic) => Path.Combine(dataDir, topic + "-0");

    /// <summary>Base offsets of the live segments (files scheduled for deletion carry a ".deleted" suffix).</summary>
    private static List<long> SegmentBaseOffsets(string dataDir, string topic) =>
        Directory.GetFiles(PartitionDir(dataDir, topic), "*.log").Select(p => long.Parse(Path.GetFileNameWithoutExtension(p))).Order().ToList();

    private static List<long> SegmentSizes(string dataDir, string topic) =>
        Directory.GetFiles(PartitionDir(dataDir, topic), "*.log").Order(StringComparer.Ordinal).Select(p => new FileInfo(p).Length).ToList();
}
