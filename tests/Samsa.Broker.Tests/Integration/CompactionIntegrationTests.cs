using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Compacted topics seen from a real client: after the background cleaner ran, reading from the beginning yields one
/// record per key (its latest value), deleted keys are gone, offsets have gaps; keyless records are refused.
/// </summary>
public sealed class CompactionIntegrationTests
{
    [Fact]
    public async Task Compacted_topic_reads_back_one_record_per_key_after_cleaning()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["log.cleaner.backoff.ms"] = "100" });
        const string topic = "compacted";
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, topic, 1, new()
        {
            ["cleanup.policy"] = "compact",
            ["segment.bytes"] = "16384",
            ["min.cleanable.dirty.ratio"] = "0.01",
            ["delete.retention.ms"] = "0",
        });

        var expected = new Dictionary<string, string>();
        using (var producer = new ProducerBuilder<string, string?>(new ProducerConfig
               {
                   BootstrapServers = broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5, BatchSize = 8192,
               }).Build())
        {
            for (int i = 0; i < 3000; i++)
            {
                string key = "key-" + (i % 50), value = $"value-{i}-" + new string('x', 40);
                producer.Produce(topic, new Message<string, string?> { Key = key, Value = value }, Report);
                expected[key] = value;
            }
            for (int k = 0; k < 5; k++)
            {
                producer.Produce(topic, new Message<string, string?> { Key = "key-" + k, Value = null }, Report);
                expected.Remove("key-" + k);
            }
            // Distinct keys filling more than a segment, so every update above sits in closed (cleanable) segments.
            for (int i = 0; i < 200; i++)
            {
                string key = "filler-" + i, value = new string('f', 200);
                producer.Produce(topic, new Message<string, string?> { Key = key, Value = value }, Report);
                expected[key] = value;
            }
            producer.Flush(ct);
            Assert.Equal(0, Volatile.Read(ref _errors));

            // Keyless records on a compacted topic: INVALID_RECORD (87).
            var refused = await Assert.ThrowsAsync<ProduceException<string, string?>>(() =>
                producer.ProduceAsync(topic, new Message<string, string?> { Key = null!, Value = "no key" }, ct));
            Assert.Equal(ErrorCode.InvalidRecord, refused.Error.Code);
        }

        List<ConsumeResult<string, string?>> records = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            records = ReadAll(broker.BootstrapServers, topic);
            if (records.Count == expected.Count) break;
            await Task.Delay(200, ct);
        }
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{records.Count} records after cleaning (expected {expected.Count}), last offset {records.LastOrDefault()?.Offset.Value}");
        foreach (var l in broker.Logs.Lines.Where(l => l.Contains("Cleaned", StringComparison.Ordinal)))
            TestContext.Current.TestOutputHelper?.WriteLine(l);
        Assert.Equal(expected.Count, records.Count);
        Assert.Equal(expected.Count, records.Select(r => r.Message.Key).Distinct().Count());
        foreach (var r in records) Assert.Equal(expected[r.Message.Key], r.Message.Value);
        Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Offset.Value < p.Second.Offset.Value));
        Assert.Contains(broker.Logs.Lines, l => l.Contains("Cleaned compacted-0", StringComparison.Ordinal));
    }

    private static int _errors;
    private static void Report(DeliveryReport<string, string?> r)
    {
        if (r.Error.IsError && Interlocked.Increment(ref _errors) < 3) TestContext.Current.TestOutputHelper?.WriteLine("delivery: " + r.Error);
    }

    private static List<ConsumeResult<string, string?>> ReadAll(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<string, string?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "compaction-check-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false,
        }).SetErrorHandler((_, e) => TestContext.Current.TestOutputHelper?.WriteLine("consumer error: " + e)).Build();
        var tp = new TopicPartition(topic, 0);
        var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        var result = new List<ConsumeResult<string, string?>>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (r is null) continue;
            if (r.IsPartitionEOF) break;
            result.Add(r);
            if (r.Offset.Value + 1 >= high) break;
        }
        return result;
    }
}
