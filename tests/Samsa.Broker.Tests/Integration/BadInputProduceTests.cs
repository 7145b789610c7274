using Confluent.Kafka;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using ErrorCode = Samsa.Protocol.ErrorCode;
using static Samsa.Broker.Tests.Integration.BadInputHelpers;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Produce validation at the edge: each bad partition gets its Kafka error code, nothing reaches the log, the
/// connection stays open and the same log keeps accepting good batches.
/// </summary>
public sealed class BadInputProduceTests
{
    private static async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(RawKafkaClient client, ProduceRequest request)
    {
        var response = await client.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, request);
        return Assert.Single(Assert.Single(response.Responses).PartitionResponses);
    }

    [Fact]
    public async Task Invalid_batches_get_per_partition_error_codes_and_append_nothing()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "target");
        await CreateTopicAsync(broker, "small", configs: new Dictionary<string, string> { ["max.message.bytes"] = "1000" });
        await using var client = await RawKafkaClient.ConnectAsync(broker);

        // CRC-32C mismatch: one byte of the last record's value flipped after the CRC was computed.
        var corrupt = Batch(3);
        corrupt[^1] ^= 0x5A;
        var result = await ProduceAsync(client, ProduceRequest("target", 0, corrupt));
        Assert.Equal((short)ErrorCode.CorruptMessage, result.ErrorCode);
        Assert.Equal(2, result.ErrorCode);
        Assert.Equal(-1, result.BaseOffset);

        // A corrupted header field covered by the CRC (the record count) is caught the same way.
        var badHeader = Batch(3);
        badHeader[RecordBatchLayout.RecordCountOffset + 3] ^= 0x01;
        Assert.Equal(2, (await ProduceAsync(client, ProduceRequest("target", 0, badHeader))).ErrorCode);

        // Legacy message format v1.
        result = await ProduceAsync(client, ProduceRequest("target", 0, LegacyMagic1MessageSet()));
        Assert.Equal((short)ErrorCode.UnsupportedForMessageFormat, result.ErrorCode);
        Assert.Equal(43, result.ErrorCode);

        // Over the topic's max.message.bytes (1000).
        var big = Batch(1, 2000);
        Assert.True(big.Length > 1000);
        result = await ProduceAsync(client, ProduceRequest("small", 0, big));
        Assert.Equal((short)ErrorCode.MessageTooLarge, result.ErrorCode);
        Assert.Equal(10, result.ErrorCode);

        // Partition 7 of a one-partition topic, and a topic that does not exist.
        result = await ProduceAsync(client, ProduceRequest("target", 7, Batch()));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, result.ErrorCode);
        Assert.Equal(3, result.ErrorCode);
        Assert.Equal(3, (await ProduceAsync(client, ProduceRequest("target", -1, Batch()))).ErrorCode);
        Assert.Equal(3, (await ProduceAsync(client, ProduceRequest("no-such-topic", 0, Batch()))).ErrorCode);

        // acks=2 is not a valid setting.
        result = await ProduceAsync(client, ProduceRequest("target", 0, Batch(), acks: 2));
        Assert.Equal((short)ErrorCode.InvalidRequiredAcks, result.ErrorCode);
        Assert.Equal(21, result.ErrorCode);

        // Two batches in one partition's records (v3+ allows exactly one), and a truncated batch.
        var two = Batch().Concat(Batch()).ToArray();
        Assert.NotEqual(0, (await ProduceAsync(client, ProduceRequest("target", 0, two))).ErrorCode);
        var truncated = Batch(3)[..^5];
        Assert.Equal(2, (await ProduceAsync(client, ProduceRequest("target", 0, truncated))).ErrorCode);

        // Nothing was appended anywhere.
        Assert.Equal(0, await LatestOffsetAsync(client, "target", 0));
        Assert.Equal(0, await LatestOffsetAsync(client, "small", 0));

        // The same connection and logs still take good batches.
        result = await ProduceAsync(client, ProduceRequest("target", 0, Batch(3)));
        Assert.Equal(0, result.ErrorCode);
        Assert.Equal(0, result.BaseOffset);
        result = await ProduceAsync(client, ProduceRequest("small", 0, Batch(1, 100)));
        Assert.Equal(0, result.ErrorCode);
        Assert.Equal(3, await LatestOffsetAsync(client, "target", 0));
        Assert.Equal(1, await LatestOffsetAsync(client, "small", 0));
        await AssertConfluentRoundTripAsync(broker, "target");
        Assert.Empty(UnexpectedErrors(broker));
    }

    [Fact]
    public async Task A_bad_partition_does_not_fail_its_neighbours_in_the_same_request()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "mixed", partitions: 3);
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        var corrupt = Batch(2);
        corrupt[^1] ^= 0xFF;
        var request = new ProduceRequest { Acks = -1, TimeoutMs = 10_000 };
        request.TopicData.Add(new ProduceRequest.TopicProduceData
        {
            Name = "mixed",
            PartitionData =
            [
                new ProduceRequest.PartitionProduceData { Index = 0, Records = Batch(2) },
                new ProduceRequest.PartitionProduceData { Index = 1, Records = corrupt },
                new ProduceRequest.PartitionProduceData { Index = 2, Records = LegacyMagic1MessageSet() },
                new ProduceRequest.PartitionProduceData { Index = 9, Records = Batch() },
            ],
        });
        var response = await client.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, request);
        var byIndex = Assert.Single(response.Responses).PartitionResponses.ToDictionary(p => p.Index, p => p.ErrorCode);
        Assert.Equal(new Dictionary<int, short> { [0] = 0, [1] = 2, [2] = 43, [9] = 3 }, byIndex);
        Assert.Equal(2, await LatestOffsetAsync(client, "mixed", 0));
        Assert.Equal(0, await LatestOffsetAsync(client, "mixed", 1));
        Assert.Equal(0, await LatestOffsetAsync(client, "mixed", 2));
    }

    [Fact]
    public async Task Confluent_producer_gets_MsgSizeTooLarge_from_the_broker()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "small", configs: new Dictionary<string, string> { ["max.message.bytes"] = "1000" });
        var config = new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            MessageMaxBytes = 10_000_000, // so librdkafka does not refuse it locally
            CompressionType = Confluent.Kafka.CompressionType.None,
            Acks = Acks.All,
            MessageTimeoutMs = 15_000,
        };
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        var e = await Assert.ThrowsAsync<ProduceException<string, byte[]>>(() =>
            producer.ProduceAsync("small", new Message<string, byte[]> { Key = "k", Value = new byte[5000] }));
        Assert.Equal(Confluent.Kafka.ErrorCode.MsgSizeTooLarge, e.Error.Code);
        Assert.False(e.Error.IsLocalError);

        // A record that fits still goes through on the same producer.
        var ok = await producer.ProduceAsync("small", new Message<string, byte[]> { Key = "k", Value = new byte[100] });
        Assert.Equal(PersistenceStatus.Persisted, ok.Status);
        Assert.Equal(0, ok.Offset.Value);
    }
}
