using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration;

/// <summary>Produce and consume with a real client (Confluent.Kafka / librdkafka) over real sockets.</summary>
public sealed class RoundTripTests
{
    [Theory]
    [InlineData(CompressionType.None, false)]
    [InlineData(CompressionType.None, true)]
    [InlineData(CompressionType.Gzip, false)]
    [InlineData(CompressionType.Gzip, true)]
    [InlineData(CompressionType.Snappy, false)]
    [InlineData(CompressionType.Snappy, true)]
    [InlineData(CompressionType.Lz4, false)]
    [InlineData(CompressionType.Lz4, true)]
    [InlineData(CompressionType.Zstd, false)]
    [InlineData(CompressionType.Zstd, true)]
    public async Task Records_round_trip_with_keys_headers_and_contiguous_offsets(CompressionType compression, bool logAppendTime)
    {
        await using var broker = await TestBroker.StartAsync();
        const string topic = "round-trip";
        const int partitions = 3;
        const int count = 100_000;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            var configs = new Dictionary<string, string>();
            if (logAppendTime) configs["message.timestamp.type"] = "LogAppendTime";
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }]);
        }

        var produced = new Dictionary<(int Partition, long Offset), (string Key, string Value)>();
        var keyPartition = new Dictionary<string, int>();
        var producerConfig = new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            CompressionType = compression,
            Acks = Acks.All,
            LingerMs = 5,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random, // the Java client's partitioner, so both agree on key placement
        };
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var producer = new ProducerBuilder<string, string>(producerConfig).Build())
        {
            var tasks = new List<Task<DeliveryResult<string, string>>>(count);
            for (int i = 0; i < count; i++)
            {
                var headers = new Headers { { "seq", BitConverter.GetBytes(i) }, { "kind", Encoding.UTF8.GetBytes("test") } };
                tasks.Add(producer.ProduceAsync(topic, new Message<string, string>
                {
                    Key = "key-" + (i % 500), Value = "value-" + i, Headers = headers,
                    Timestamp = new Timestamp(before - 1000 + (i % 10), TimestampType.CreateTime),
                }));
            }
            foreach (var result in await Task.WhenAll(tasks))
            {
                Assert.Equal(PersistenceStatus.Persisted, result.Status);
                produced.Add((result.Partition.Value, result.Offset.Value), (result.Message.Key, result.Message.Value));
                if (keyPartition.TryGetValue(result.Message.Key, out int p)) Assert.Equal(p, result.Partition.Value);
                else keyPartition[result.Message.Key] = result.Partition.Value;
                Assert.Equal(JavaDefaultPartition(result.Message.Key, partitions), result.Partition.Value);
            }
        }

        // Offsets are contiguous from 0 in every partition.
        foreach (var group in produced.Keys.GroupBy(k => k.Partition))
        {
            var offsets = group.Select(k => k.Offset).Order().ToList();
            Assert.Equal(Enumerable.Range(0, offsets.Count).Select(i => (long)i), offsets);
        }

        var consumed = ConsumeAll(broker.BootstrapServers, topic, count);
        Assert.Equal(count, consumed.Count);
        foreach (var record in consumed)
        {
            var expected = produced[(record.Partition.Value, record.Offset.Value)];
            Assert.Equal(expected.Key, record.Message.Key);
            Assert.Equal(expected.Value, record.Message.Value);
            int seq = BitConverter.ToInt32(record.Message.Headers.GetLastBytes("seq"));
            Assert.Equal("value-" + seq, record.Message.Value);
            Assert.Equal("test", Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes("kind")));
            if (logAppendTime)
            {
                Assert.Equal(TimestampType.LogAppendTime, record.Message.Timestamp.Type);
                Assert.True(record.Message.Timestamp.UnixTimestampMs >= before);
            }
            else
            {
                Assert.Equal(TimestampType.CreateTime, record.Message.Timestamp.Type);
                Assert.InRange(record.Message.Timestamp.UnixTimestampMs, before - 1000, before - 990);
            }
        }
    }

    /// <summary>Kafka's Java default partitioner for keyed records: (murmur2(key) &amp; 0x7fffffff) % partitions.</summary>
    private static int JavaDefaultPartition(string key, int partitions) =>
        (int)((Murmur2(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % partitions);

    private static uint Murmur2(byte[] data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        int length = data.Length;
        uint h = 0x9747b28c ^ (uint)length;
        int i = 0;
        for (; i + 4 <= length; i += 4)
        {
            uint k = BitConverter.ToUInt32(data, i);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (length - i)
        {
            case 3: h ^= (uint)data[i + 2] << 16; goto case 2;
            case 2: h ^= (uint)data[i + 1] << 8; goto case 1;
            case 1: h ^= data[i]; h *= m; break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }

    internal static List<ConsumeResult<string, string>> ConsumeAll(string bootstrap, string topic, int expected, string? groupId = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = groupId ?? "unused-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        consumer.Assign(meta.Topics[0].Partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        var results = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (r is not null && !r.IsPartitionEOF) results.Add(r);
        }
        return results;
    }
}
