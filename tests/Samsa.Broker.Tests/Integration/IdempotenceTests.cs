using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using Samsa.Protocol.Serialization;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Broker.Tests.Integration;

/// <summary>Idempotent producer: duplicates are acknowledged once with their first offsets, gaps are refused, state survives restarts.</summary>
public sealed class IdempotenceTests
{
    private const string Topic = "idempotence";

    [Fact]
    public async Task Duplicates_are_written_once_gaps_are_refused_and_state_survives_a_restart()
    {
        await using var broker = await TestBroker.StartAsync();
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, Topic, 1);
        var ct = TestContext.Current.CancellationToken;

        long producerId;
        short epoch;
        byte[] batchA, batchB;
        using (var client = await DurabilityWireClient.ConnectAsync(broker.Host.BoundEndpoints[0].Port, ct))
        {
            var init = await client.SendAsync<InitProducerIdResponse>(ApiKey.InitProducerId, 4,
                new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60_000 }, ct);
            Assert.Equal(0, init.ErrorCode);
            (producerId, epoch) = (init.ProducerId, init.ProducerEpoch);
            Assert.True(producerId >= 0);

            batchA = DurabilityWireClient.Batch(producerId, epoch, baseSequence: 0, count: 5, "a");
            batchB = DurabilityWireClient.Batch(producerId, epoch, baseSequence: 5, count: 3, "b");

            Assert.Equal((ErrorCode.None, 0L), await client.ProduceAsync(Topic, 0, batchA, ct));
            Assert.Equal((ErrorCode.None, 0L), await client.ProduceAsync(Topic, 0, batchA, ct)); // retry: same offsets, not appended
            Assert.Equal(5, await client.ListOffsetAsync(Topic, 0, -1, ct));
            Assert.Equal((ErrorCode.None, 5L), await client.ProduceAsync(Topic, 0, batchB, ct));
            Assert.Equal((ErrorCode.None, 0L), await client.ProduceAsync(Topic, 0, batchA, ct)); // an older one of the last five
            Assert.Equal((ErrorCode.None, 5L), await client.ProduceAsync(Topic, 0, batchB, ct));
            Assert.Equal(8, await client.ListOffsetAsync(Topic, 0, -1, ct));

            // Sequence 8 is next; 10 leaves a gap.
            var gap = DurabilityWireClient.Batch(producerId, epoch, baseSequence: 10, count: 2, "gap");
            var (error, _) = await client.ProduceAsync(Topic, 0, gap, ct);
            Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, error);
            Assert.Equal(45, (short)error);
            Assert.Equal(8, await client.ListOffsetAsync(Topic, 0, -1, ct));
        }

        await broker.RestartAsync();

        using (var client = await DurabilityWireClient.ConnectAsync(broker.Host.BoundEndpoints[0].Port, ct))
        {
            // The producer's last batches came back from the snapshot: retries are still recognised.
            Assert.Equal((ErrorCode.None, 5L), await client.ProduceAsync(Topic, 0, batchB, ct));
            Assert.Equal((ErrorCode.None, 0L), await client.ProduceAsync(Topic, 0, batchA, ct));
            Assert.Equal(8, await client.ListOffsetAsync(Topic, 0, -1, ct));
            var gap = DurabilityWireClient.Batch(producerId, epoch, baseSequence: 9, count: 1, "gap");
            Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, (await client.ProduceAsync(Topic, 0, gap, ct)).Error);
            var next = DurabilityWireClient.Batch(producerId, epoch, baseSequence: 8, count: 2, "c");
            Assert.Equal((ErrorCode.None, 8L), await client.ProduceAsync(Topic, 0, next, ct));
            Assert.Equal(10, await client.ListOffsetAsync(Topic, 0, -1, ct));
        }

        var consumed = RoundTripTests.ConsumeAll(broker.BootstrapServers, Topic, 10);
        Assert.Equal(["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "c0", "c1"], consumed.Select(r => r.Message.Value));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), consumed.Select(r => r.Offset.Value));
    }

    [Fact]
    public async Task Confluent_idempotent_producer_writes_exactly_10k_records()
    {
        await using var broker = await TestBroker.StartAsync();
        const int count = 10_000;
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, Topic, 3);
        var config = new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers, Acks = Acks.All, EnableIdempotence = true, LingerMs = 2,
            MaxInFlight = 5, BatchNumMessages = 200,
        };
        using (var producer = new ProducerBuilder<string, string>(config).Build())
        {
            var tasks = Enumerable.Range(0, count)
                .Select(i => producer.ProduceAsync(Topic, new Message<string, string> { Key = "k" + (i % 97), Value = "v" + i })).ToList();
            var results = await Task.WhenAll(tasks);
            Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
            Assert.Equal(count, results.Select(r => (r.Partition.Value, r.Offset.Value)).Distinct().Count());
        }

        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "wm" }).Build())
        {
            long total = Enumerable.Range(0, 3)
                .Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), TimeSpan.FromSeconds(10)).High.Value);
            Assert.Equal(count, total);
        }
        var consumed = RoundTripTests.ConsumeAll(broker.BootstrapServers, Topic, count);
        Assert.Equal(count, consumed.Count);
        Assert.Equal(count, consumed.Select(r => r.Message.Value).Distinct().Count());
    }
}

/// <summary>
/// A minimal raw Kafka client for the durability tests: one request at a time over one TCP connection, built from
/// Samsa.Protocol's message definitions and frames.
/// </summary>
internal sealed class DurabilityWireClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private int _correlationId;

    private DurabilityWireClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<DurabilityWireClient> ConnectAsync(int port, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port, ct);
        return new DurabilityWireClient(tcp);
    }

    public async Task<T> SendAsync<T>(ApiKey apiKey, short version, object body, CancellationToken ct) where T : class, new()
    {
        int correlationId = ++_correlationId;
        var output = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(output, new RequestHeader(apiKey, version, correlationId, "durability-tests"), body);
        await _stream.WriteAsync(output.WrittenMemory, ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var size = new byte[4];
        await _stream.ReadExactlyAsync(size, timeout.Token);
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await _stream.ReadExactlyAsync(frame, timeout.Token);
        var (readCorrelation, response) = KafkaFrames.ReadResponse<T>(frame, apiKey, version);
        Assert.Equal(correlationId, readCorrelation);
        return response;
    }

    /// <summary>One v2 batch of <paramref name="count"/> records with values "{prefix}{i}", stamped with the producer's id, epoch and sequence.</summary>
    public static byte[] Batch(long producerId, short epoch, int baseSequence, int count, string prefix)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence };
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < count; i++)
            builder.Append(now, Encoding.UTF8.GetBytes("key"), Encoding.UTF8.GetBytes(prefix + i));
        return builder.Build();
    }

    /// <summary>Produce v9, acks=-1, one partition; returns its error and base offset.</summary>
    public async Task<(ErrorCode Error, long BaseOffset)> ProduceAsync(string topic, int partition, byte[] batch, CancellationToken ct)
    {
        var request = new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 30_000,
            TopicData = [new() { Name = topic, PartitionData = [new() { Index = partition, Records = batch.ToArray() }] }],
        };
        var response = await SendAsync<ProduceResponse>(ApiKey.Produce, 9, request, ct);
        var p = Assert.Single(Assert.Single(response.Responses).PartitionResponses);
        return ((ErrorCode)p.ErrorCode, p.BaseOffset);
    }

    /// <summary>ListOffsets v7 for one partition: -1 latest (high watermark), -2 earliest (log start offset).</summary>
    public async Task<long> ListOffsetAsync(string topic, int partition, long timestamp, CancellationToken ct)
    {
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = topic, Partitions = [new() { PartitionIndex = partition, Timestamp = timestamp }] }],
        };
        var response = await SendAsync<ListOffsetsResponse>(ApiKey.ListOffsets, 7, request, ct);
        var p = Assert.Single(Assert.Single(response.Topics).Partitions);
        Assert.Equal(0, p.ErrorCode);
        return p.Offset;
    }

    /// <summary>Fetch v11 (no session) of one partition from <paramref name="offset"/>.</summary>
    public async Task<FetchResponse.PartitionData> FetchAsync(string topic, int partition, long offset, CancellationToken ct)
    {
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxWaitMs = 0,
            MinBytes = 0,
            MaxBytes = 1 << 20,
            SessionId = 0,
            SessionEpoch = -1,
            Topics = [new() { Topic = topic, Partitions = [new() { Partition = partition, FetchOffset = offset, PartitionMaxBytes = 1 << 20 }] }],
        };
        var response = await SendAsync<FetchResponse>(ApiKey.Fetch, 11, request, ct);
        Assert.Equal(0, response.ErrorCode);
        return Assert.Single(Assert.Single(response.Responses).Partitions);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}
