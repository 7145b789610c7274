using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests.Integration;

/// <summary>Shared pieces of the edge-robustness tests: health checks after abuse, topic setup, hand-built batches.</summary>
internal static class BadInputHelpers
{
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes; returns its last value.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) return condition();
            await Task.Delay(10);
        }
        return true;
    }

    public static async Task CreateTopicAsync(TestBroker broker, string name, int partitions = 1, IDictionary<string, string>? configs = null)
    {
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        var request = new CreateTopicsRequest { TimeoutMs = 10_000 };
        var topic = new CreateTopicsRequest.CreatableTopic { Name = name, NumPartitions = partitions, ReplicationFactor = 1 };
        foreach (var (k, v) in configs ?? new Dictionary<string, string>())
            topic.Configs.Add(new CreateTopicsRequest.CreatableTopicConfig { Name = k, Value = v });
        request.Topics.Add(topic);
        var response = await client.RequestAsync<CreateTopicsResponse>(ApiKey.CreateTopics, 7, request);
        var result = Assert.Single(response.Topics);
        Assert.True(result.ErrorCode == 0, $"CreateTopics {name}: error {result.ErrorCode} {result.ErrorMessage}");
    }

    /// <summary>A fresh connection completes an ApiVersions v3 round trip.</summary>
    public static async Task AssertApiVersionsRoundTripAsync(TestBroker broker)
    {
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        await AssertApiVersionsRoundTripAsync(client);
    }

    public static async Task AssertApiVersionsRoundTripAsync(RawKafkaClient client)
    {
        var response = await client.RequestAsync<ApiVersionsResponse>(ApiKey.ApiVersions, 3,
            new ApiVersionsRequest { ClientSoftwareName = "raw-test", ClientSoftwareVersion = "1.0" });
        Assert.Equal(0, response.ErrorCode);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.Produce);
    }

    /// <summary>A real client (librdkafka) produces one record and reads it back.</summary>
    public static async Task AssertConfluentRoundTripAsync(TestBroker broker, string topic)
    {
        string value = "alive-" + Guid.NewGuid().ToString("N");
        var producerConfig = new ProducerConfig { BootstrapServers = broker.BootstrapServers, Acks = Acks.All, MessageTimeoutMs = 15_000 };
        using (var producer = new ProducerBuilder<string, string>(producerConfig).Build())
        {
            var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value });
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }
        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "unused-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<string, string>(consumerConfig).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null && !r.IsPartitionEOF && r.Message.Value == value) return;
        }
        Assert.Fail($"Record {value} was not consumed back from {topic}.");
    }

    /// <summary>ListOffsets v7 latest (the log end offset) for one partition.</summary>
    public static async Task<long> LatestOffsetAsync(RawKafkaClient client, string topic, int partition)
    {
        var request = new ListOffsetsRequest { ReplicaId = -1 };
        request.Topics.Add(new ListOffsetsRequest.ListOffsetsTopic
        {
            Name = topic,
            Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = partition, Timestamp = -1 }],
        });
        var response = await client.RequestAsync<ListOffsetsResponse>(ApiKey.ListOffsets, 7, request);
        var p = Assert.Single(Assert.Single(response.Topics).Partitions);
        Assert.Equal(0, p.ErrorCode);
        return p.Offset;
    }

    /// <summary>A valid v2 batch of <paramref name="count"/> uncompressed records.</summary>
    public static byte[] Batch(int count = 1, int valueSize = 16)
    {
        using var builder = new RecordBatchBuilder();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < count; i++)
        {
            var value = new byte[valueSize];
            new Random(i).NextBytes(value);
            builder.Append(now, Encoding.UTF8.GetBytes("key-" + i), value);
        }
        return builder.Build();
    }

    /// <summary>One message in the legacy v1 message format (magic 1), as a pre-0.11 client would send it.</summary>
    public static byte[] LegacyMagic1MessageSet()
    {
        byte[] key = "k"u8.ToArray();
        byte[] value = "legacy"u8.ToArray();
        // offset(8) messageSize(4) | crc(4) magic(1) attributes(1) timestamp(8) keyLength(4) key valueLength(4) value
        int messageSize = 4 + 1 + 1 + 8 + 4 + key.Length + 4 + value.Length;
        var buffer = new byte[12 + messageSize];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, 0);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], messageSize);
        int p = 16;
        span[p++] = 1; // magic
        span[p++] = 0; // attributes
        BinaryPrimitives.WriteInt64BigEndian(span[p..], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        p += 8;
        BinaryPrimitives.WriteInt32BigEndian(span[p..], key.Length);
        p += 4;
        key.CopyTo(span[p..]);
        p += key.Length;
        BinaryPrimitives.WriteInt32BigEndian(span[p..], value.Length);
        p += 4;
        value.CopyTo(span[p..]);
        // The v0/v1 CRC is CRC-32 (IEEE) over magic..end.
        BinaryPrimitives.WriteUInt32BigEndian(span[12..], Crc32Ieee(span[16..]));
        return buffer;
    }

    private static uint Crc32Ieee(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    public static ProduceRequest ProduceRequest(string topic, int partition, byte[] records, short acks = -1)
    {
        var request = new ProduceRequest { Acks = acks, TimeoutMs = 10_000 };
        request.TopicData.Add(new ProduceRequest.TopicProduceData
        {
            Name = topic,
            PartitionData = [new ProduceRequest.PartitionProduceData { Index = partition, Records = records }],
        });
        return request;
    }

    /// <summary>Error lines logged by the dispatcher when a handler threw on input that decoded fine.</summary>
    public static List<string> UnexpectedErrors(TestBroker broker) =>
        broker.Logs.Lines.Where(l => (l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal))
                                     && l.Contains("Unexpected error", StringComparison.Ordinal)).ToList();

    public static long WorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
