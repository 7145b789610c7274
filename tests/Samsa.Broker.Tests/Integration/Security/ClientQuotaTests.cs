using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>Client quotas: AlterClientQuotas/DescribeClientQuotas, produce throttling to the byte rate, KIP-219 muting.</summary>
public sealed class ClientQuotaTests
{
    private static AlterClientQuotasRequest.EntryData Entry(string? user, string? clientId, string key, double value, bool remove = false, bool hasUser = true, bool hasClient = true)
    {
        var entry = new AlterClientQuotasRequest.EntryData();
        if (hasUser) entry.Entity.Add(new() { EntityType = "user", EntityName = user });
        if (hasClient) entry.Entity.Add(new() { EntityType = "client-id", EntityName = clientId });
        entry.Ops.Add(new() { Key = key, Value = value, Remove = remove });
        return entry;
    }

    internal static async Task AlterAsync(TestBroker broker, params AlterClientQuotasRequest.EntryData[] entries)
    {
        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        var response = await raw.RequestAsync<AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, 1, new AlterClientQuotasRequest { Entries = [.. entries] });
        Assert.All(response.Entries, e => Assert.Equal(0, e.ErrorCode));
    }

    private static async Task<DescribeClientQuotasResponse> DescribeAsync(RawKafkaClient raw, bool strict, params DescribeClientQuotasRequest.ComponentData[] components) =>
        await raw.RequestAsync<DescribeClientQuotasResponse>(ApiKey.DescribeClientQuotas, 1,
            new DescribeClientQuotasRequest { Components = [.. components], Strict = strict });

    private static DescribeClientQuotasRequest.ComponentData C(string type, sbyte matchType, string? match) =>
        new() { EntityType = type, MatchType = matchType, Match = match };

    private static string Show(DescribeClientQuotasResponse response) => string.Join(" | ", response.Entries!
        .Select(e => string.Join(",", e.Entity.Select(p => $"{p.EntityType}={p.EntityName ?? "<default>"}")) + ":" +
                     string.Join(",", e.Values.Select(v => $"{v.Key}={v.Value}")))
        .Order(StringComparer.Ordinal));

    [Fact]
    public async Task Quotas_are_altered_validated_described_with_filters_and_survive_a_restart()
    {
        await using var broker = await TestBroker.StartAsync();
        await AlterAsync(broker,
            Entry("alice", null, "producer_byte_rate", 1024, hasClient: false),
            Entry(null, null, "consumer_byte_rate", 2048),
            Entry(null, "app", "request_percentage", 50, hasUser: false));

        await using (var raw = await RawKafkaClient.ConnectAsync(broker))
        {
            var invalid = await raw.RequestAsync<AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, 1, new AlterClientQuotasRequest
            {
                Entries =
                [
                    Entry("bob", null, "no_such_quota", 1, hasClient: false),
                    Entry("bob", null, "producer_byte_rate", 10.5, hasClient: false),
                    Entry("bob", null, "producer_byte_rate", -1, hasClient: false),
                    Entry("bob", null, "producer_byte_rate", 100, hasClient: false),
                ],
            });
            Assert.Equal([ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.None],
                invalid.Entries.Select(e => (ErrorCode)e.ErrorCode));
            var validateOnly = await raw.RequestAsync<AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, 0, new AlterClientQuotasRequest
            {
                Entries = [Entry("carol", null, "producer_byte_rate", 5, hasClient: false)], ValidateOnly = true,
            });
            Assert.Equal(0, Assert.Single(validateOnly.Entries).ErrorCode);
        }

        await broker.RestartAsync();
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        Assert.Equal("client-id=app:request_percentage=50 | user=<default>,client-id=<default>:consumer_byte_rate=2048 | " +
                     "user=alice:producer_byte_rate=1024 | user=bob:producer_byte_rate=100",
            Show(await DescribeAsync(client, false)));
        // Exact user name; strict drops entities with more types than the filter.
        Assert.Equal("user=alice:producer_byte_rate=1024",
            Show(await DescribeAsync(client, false, C("user", 0, "alice"))));
        // Default user: only the (default user, default client-id) entity has one; strict excludes it.
        Assert.Equal("user=<default>,client-id=<default>:consumer_byte_rate=2048",
            Show(await DescribeAsync(client, false, C("user", 1, null))));
        Assert.Equal("", Show(await DescribeAsync(client, true, C("user", 1, null))));
        // Any specified client-id.
        Assert.Equal("client-id=app:request_percentage=50 | user=<default>,client-id=<default>:consumer_byte_rate=2048",
            Show(await DescribeAsync(client, false, C("client-id", 2, null))));
        var bad = await DescribeAsync(client, false, C("user", 0, null));
        Assert.Equal(ErrorCode.InvalidRequest, (ErrorCode)bad.ErrorCode);

        // Removing the last key removes the entity.
        await AlterAsync(broker, Entry("alice", null, "producer_byte_rate", 0, remove: true, hasClient: false));
        Assert.DoesNotContain("alice", Show(await DescribeAsync(client, false)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_produce_over_quota_is_answered_with_throttle_time_and_the_connection_is_muted_for_it()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "throttled");
        await AlterAsync(broker, Entry(null, "raw-test", "producer_byte_rate", 1000, hasUser: false));

        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        byte[] batch = BadInputHelpers.Batch(12, 1000); // ~12.3 KB over a 10 s window: ~23 % over 1000 B/s
        var produce = await raw.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, new ProduceRequest
        {
            Acks = -1, TimeoutMs = 5000,
            TopicData = [new() { Name = "throttled", PartitionData = [new() { Index = 0, Records = batch }] }],
        });
        Assert.Equal(0, produce.Responses[0].PartitionResponses[0].ErrorCode); // throttled, not refused
        int expected = (int)((batch.Length / 10.0 - 1000) / 1000 * 10_000);
        Assert.InRange(produce.ThrottleTimeMs, expected - 100, expected + 100);

        // The connection reads nothing until the throttle time has passed: the next request is answered after it.
        var clock = Stopwatch.StartNew();
        await raw.RequestAsync<ApiVersionsResponse>(ApiKey.ApiVersions, 3, new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" });
        Assert.True(clock.ElapsedMilliseconds >= produce.ThrottleTimeMs - 200, $"answered after {clock.ElapsedMilliseconds} ms, throttle {produce.ThrottleTimeMs} ms");

        // Another client id on another connection is not throttled.
        var other = RawKafkaClient.Frame(ApiKey.Produce, 9, new ProduceRequest
        {
            Acks = -1, TimeoutMs = 5000,
            TopicData = [new() { Name = "throttled", PartitionData = [new() { Index = 0, Records = BadInputHelpers.Batch(12, 1000) }] }],
        }, 1, clientId: "unlimited");
        await using var second = await RawKafkaClient.ConnectAsync(broker);
        await second.SendRawAsync(other);
        second.Expect(ApiKey.Produce, 9, 1);
        Assert.Equal(0, (await second.ReceiveAsync<ProduceResponse>()).ThrottleTimeMs);
    }

    [Fact]
    public async Task A_request_percentage_quota_throttles_a_busy_client_only()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "busy");
        // 0.01 % of one thread over the 10 s window: about a dozen small requests' worth of handler time.
        await AlterAsync(broker, Entry(null, "raw-test", "request_percentage", 0.01, hasUser: false));

        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        var request = new MetadataRequest { Topics = [new() { Name = "busy" }] };
        int throttle = 0;
        for (int i = 0; i < 10_000 && throttle == 0; i++)
            throttle = (await raw.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, request)).ThrottleTimeMs;
        Assert.True(throttle > 0, "10 000 requests were never throttled");

        // Another client id is not limited.
        await using var other = await RawKafkaClient.ConnectAsync(broker);
        for (int i = 0; i < 50; i++)
        {
            other.Expect(ApiKey.Metadata, 12, 100 + i);
            await other.SendRawAsync(RawKafkaClient.Frame(ApiKey.Metadata, 12, request, 100 + i, clientId: "idle"));
            Assert.Equal(0, (await other.ReceiveAsync<MetadataResponse>()).ThrottleTimeMs);
        }
    }

    [Fact]
    public async Task A_produce_quota_holds_a_producer_to_its_byte_rate_while_another_client_keeps_its_own()
    {
        const double quota = 256_000; // bytes per second for client-id "slow"
        const int valueSize = 1000;
        var window = TimeSpan.FromSeconds(10);
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "quota-slow");
        await BadInputHelpers.CreateTopicAsync(broker, "quota-fast");
        await AlterAsync(broker, Entry(null, "slow", "producer_byte_rate", quota, hasUser: false));

        var clock = Stopwatch.StartNew();
        var slow = Task.Run(() => ProduceFor(broker.BootstrapServers, "quota-slow", "slow", valueSize, window, clock, batchSize: 4096));
        var fast = Task.Run(() => ProduceFor(broker.BootstrapServers, "quota-fast", "fast", valueSize, window, clock, batchSize: 1_000_000));
        var (slowAcked, slowThrottled) = await slow;
        var (fastAcked, _) = await fast;

        double slowRate = slowAcked * (double)valueSize / window.TotalSeconds;
        double fastRate = fastAcked * (double)valueSize / window.TotalSeconds;
        TestContext.Current.TestOutputHelper?.WriteLine($"slow: {slowRate:F0} B/s (quota {quota:F0}), fast: {fastRate:F0} B/s");
        Assert.True(slowThrottled, "the slow producer never saw throttle_time_ms");
        Assert.InRange(slowRate, quota * 0.8, quota * 1.2);
        Assert.True(fastRate > 2 * quota, $"unthrottled client reached {fastRate:F0} B/s (throttled one {slowRate:F0} B/s)");
    }

    [Fact]
    public async Task A_fetch_quota_holds_a_consumer_to_its_byte_rate()
    {
        const double quota = 256_000; // bytes per second for client-id "slow-reader"
        const int valueSize = 1000;
        const int records = 4000;     // more than the consumer may read in 10 s
        var window = TimeSpan.FromSeconds(10);
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "quota-read");
        // Small batches: a fetch returns whole batches, so the quota can only be met to within a batch or so.
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5, BatchSize = 16_384 }).Build())
        {
            for (int i = 0; i < records; i++) producer.Produce("quota-read", new Message<Null, byte[]> { Value = new byte[valueSize] });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        await AlterAsync(broker, Entry(null, "slow-reader", "consumer_byte_rate", quota, hasUser: false));

        var config = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, ClientId = "slow-reader", GroupId = "quota-readers", EnableAutoCommit = false,
            MaxPartitionFetchBytes = 65_536, FetchMaxBytes = 65_536, MessageMaxBytes = 65_536,
        };
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
        consumer.Assign(new TopicPartitionOffset("quota-read", 0, 0));
        long bytes = 0;
        Stopwatch? clock = null;
        while (clock is null || clock.Elapsed < window)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result?.Message is null) continue;
            clock ??= Stopwatch.StartNew(); // the quota's first sample starts with the first fetch that returned data
            if (clock.Elapsed < window) bytes += result.Message.Value.Length;
        }
        double rate = bytes / window.TotalSeconds;
        Assert.InRange(rate, quota * 0.8, quota * 1.2);
        Assert.True(bytes < records * (long)valueSize, "the consumer read everything: the quota did not hold it back");
    }

    /// <summary>
    /// Produces <paramref name="valueSize"/>-byte records as fast as the broker acknowledges them (at most 1000 unacknowledged)
    /// and returns how many were acknowledged within <paramref name="window"/> of <paramref name="clock"/>'s start, and whether
    /// the client reported broker throttling.
    /// </summary>
    private static (long Acked, bool Throttled) ProduceFor(string bootstrap, string topic, string clientId, int valueSize, TimeSpan window,
        Stopwatch clock, int batchSize)
    {
        bool throttled = false;
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap, ClientId = clientId, Acks = Acks.All, LingerMs = 2, BatchSize = batchSize,
            StatisticsIntervalMs = 200,
        };
        long acked = 0;
        using var inFlight = new SemaphoreSlim(1000);
        var errors = new ConcurrentQueue<string>();
        using var producer = new ProducerBuilder<Null, byte[]>(config)
            .SetStatisticsHandler((_, json) => throttled |= ReportsThrottling(json))
            .Build();
        var value = new byte[valueSize];
        while (clock.Elapsed < window)
        {
            if (!inFlight.Wait(TimeSpan.FromMilliseconds(100))) continue;
            producer.Produce(topic, new Message<Null, byte[]> { Value = value }, report =>
            {
                if (report.Error.IsError) errors.Enqueue(report.Error.Reason);
                else if (clock.Elapsed <= window) Interlocked.Increment(ref acked);
                inFlight.Release();
            });
        }
        producer.Flush(TimeSpan.FromSeconds(15));
        Assert.Empty(errors);
        return (Interlocked.Read(ref acked), throttled);
    }

    /// <summary>librdkafka's statistics carry, per broker, the throttle times it received (KIP-219) over the last interval.</summary>
    private static bool ReportsThrottling(string statistics)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(statistics);
        foreach (var broker in doc.RootElement.GetProperty("brokers").EnumerateObject())
            if (broker.Value.TryGetProperty("throttle", out var t) && t.TryGetProperty("max", out var max) && max.GetInt64() > 0)
                return true;
        return false;
    }
}
