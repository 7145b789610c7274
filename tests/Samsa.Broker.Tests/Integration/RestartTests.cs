using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration;

/// <summary>A graceful restart keeps every acknowledged record at its offset, and offsets continue where they stopped.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Graceful_restart_keeps_every_record_at_its_offset_and_produce_continues()
    {
        await using var broker = await TestBroker.StartAsync();
        const string topic = "restart";
        const int partitions = 3;
        const int count = 10_000;
        await CreateTopicAsync(broker.BootstrapServers, topic, partitions);

        var produced = await ProduceAsync(broker.BootstrapServers, topic, Enumerable.Range(0, count).Select(i => ("key-" + (i % 300), "value-" + i)));
        Assert.Equal(count, produced.Count);
        var endBefore = EndOffsets(produced, partitions);
        Assert.Equal(count, endBefore.Sum());

        await broker.RestartAsync();
        Assert.Contains(broker.Logs.Lines, l => l.Contains("clean shutdown True", StringComparison.Ordinal));

        var consumed = RoundTripTests.ConsumeAll(broker.BootstrapServers, topic, count);
        Assert.Equal(count, consumed.Count);
        var read = consumed.ToDictionary(r => (r.Partition.Value, r.Offset.Value), r => (r.Message.Key, r.Message.Value));
        Assert.Equal(produced.Count, read.Count);
        foreach (var (position, record) in produced)
            Assert.Equal(record, read[position]);

        // New records continue right after the old ones in every partition.
        var more = await ProduceAsync(broker.BootstrapServers, topic, Enumerable.Range(count, 300).Select(i => ("key-" + (i % 300), "value-" + i)));
        foreach (var group in more.Keys.GroupBy(k => k.Partition))
        {
            var offsets = group.Select(k => k.Offset).Order().ToList();
            Assert.Equal(Enumerable.Range(0, offsets.Count).Select(i => endBefore[group.Key] + i), offsets);
        }
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "wm" }).Build();
        for (int p = 0; p < partitions; p++)
        {
            var wm = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            Assert.Equal(0, wm.Low.Value);
            Assert.Equal(endBefore[p] + more.Keys.Count(k => k.Partition == p), wm.High.Value);
        }
    }

    internal static async Task CreateTopicAsync(string bootstrap, string topic, int partitions, Dictionary<string, string>? configs = null)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }]);
    }

    /// <summary>Produces with acks=all and idempotence; returns (partition, offset) → (key, value) of every acknowledged record.</summary>
    internal static async Task<Dictionary<(int Partition, long Offset), (string Key, string Value)>> ProduceAsync(
        string bootstrap, string topic, IEnumerable<(string Key, string Value)> records, int? partition = null)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var tasks = records.Select(r => partition is { } p
            ? producer.ProduceAsync(new TopicPartition(topic, p), new Message<string, string> { Key = r.Key, Value = r.Value })
            : producer.ProduceAsync(topic, new Message<string, string> { Key = r.Key, Value = r.Value })).ToList();
        var result = new Dictionary<(int, long), (string, string)>();
        foreach (var r in await Task.WhenAll(tasks))
        {
            Assert.Equal(PersistenceStatus.Persisted, r.Status);
            result.Add((r.Partition.Value, r.Offset.Value), (r.Message.Key, r.Message.Value));
        }
        return result;
    }

    private static long[] EndOffsets(Dictionary<(int Partition, long Offset), (string Key, string Value)> produced, int partitions)
    {
        var ends = new long[partitions];
        foreach (var group in produced.Keys.GroupBy(k => k.Partition))
        {
            var offsets = group.Select(k => k.Offset).Order().ToList();
            Assert.Equal(Enumerable.Range(0, offsets.Count).Select(i => (long)i), offsets);
            ends[group.Key] = offsets.Count;
        }
        return ends;
    }
}
