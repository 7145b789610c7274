using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using static Samsa.Broker.Tests.Integration.BadInputHelpers;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// DESIGN principle 8 at the framing and dispatch layer: garbage, truncated, oversized and unsupported requests close
/// the offending connection (or get a Kafka error), and never disturb other connections or the process.
/// </summary>
public sealed class BadInputFramingTests
{
    [Fact]
    public async Task Random_bytes_close_the_connection_and_other_clients_are_unaffected()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "alive");
        // A well-behaved client connected throughout; it must keep working on the same connection.
        await using var bystander = await RawKafkaClient.ConnectAsync(broker);
        await AssertApiVersionsRoundTripAsync(bystander);

        for (int seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var garbage = new byte[random.Next(16, 4096)];
            random.NextBytes(garbage);
            // Half the cases carry a consistent size prefix, so the broker reads a whole frame of random header and
            // body; the other half are raw noise whose "size" may be anything.
            bool framed = seed % 2 == 0;
            if (framed) BinaryPrimitives.WriteInt32BigEndian(garbage, garbage.Length - 4);

            await using var attacker = await RawKafkaClient.ConnectAsync(broker);
            await attacker.SendRawAsync(garbage);
            int prefix = BinaryPrimitives.ReadInt32BigEndian(garbage);
            if (!framed && prefix >= 10 && prefix <= 104_857_600 && prefix > garbage.Length - 4)
            {
                // A plausible size larger than what was sent: the broker rightly waits for the rest of the frame,
                // then closes when the client gives up mid-frame.
                Assert.False(await attacker.IsClosedAsync(TimeSpan.FromMilliseconds(100)));
                attacker.Socket.Shutdown(SocketShutdown.Send);
            }
            Assert.True(await attacker.IsClosedAsync(CloseTimeout), $"seed {seed}: connection not closed (prefix {prefix}, {garbage.Length} bytes)");
        }

        await AssertApiVersionsRoundTripAsync(bystander);
        await AssertApiVersionsRoundTripAsync(broker);
        await AssertConfluentRoundTripAsync(broker, "alive");
        Assert.Empty(UnexpectedErrors(broker));
    }

    [Fact]
    public async Task Truncated_frame_then_disconnect_is_harmless()
    {
        await using var broker = await TestBroker.StartAsync();
        long baseline = broker.Host.Metrics.OpenConnections;
        await using var bystander = await RawKafkaClient.ConnectAsync(broker);
        await AssertApiVersionsRoundTripAsync(bystander);

        var attacker = await RawKafkaClient.ConnectAsync(broker);
        var partial = RawKafkaClient.Frame(ApiKey.ApiVersions, 3, new ApiVersionsRequest(), 1);
        var bytes = new byte[24];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 100); // says 100, only 20 follow
        partial.AsSpan(4, 20).CopyTo(bytes.AsSpan(4));
        await attacker.SendRawAsync(bytes);
        // While the partial frame is pending, others are served.
        Assert.False(await attacker.IsClosedAsync(TimeSpan.FromMilliseconds(100)));
        await AssertApiVersionsRoundTripAsync(bystander);
        await AssertApiVersionsRoundTripAsync(broker);
        attacker.Dispose();

        Assert.True(await WaitUntilAsync(() => broker.Host.Metrics.OpenConnections == baseline + 1, CloseTimeout),
            $"open connections {broker.Host.Metrics.OpenConnections}, expected {baseline + 1}");
        Assert.True(await WaitUntilAsync(() => broker.Logs.Lines.Any(l => l.Contains("closed mid-frame (24 bytes unread)", StringComparison.Ordinal)), CloseTimeout),
            "no mid-frame log line");
        await AssertApiVersionsRoundTripAsync(bystander);
        Assert.Empty(UnexpectedErrors(broker));
    }

    [Theory]
    [InlineData(0x7FFFFFFF)]
    [InlineData(unchecked((int)0x80000000))]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(9)]
    public async Task Size_prefix_outside_limits_closes_promptly_without_allocating(int size)
    {
        await using var broker = await TestBroker.StartAsync();
        await using var bystander = await RawKafkaClient.ConnectAsync(broker);
        await AssertApiVersionsRoundTripAsync(bystander);
        long workingSetBefore = WorkingSet();

        await using var attacker = await RawKafkaClient.ConnectAsync(broker);
        var bytes = new byte[4 + 64];
        BinaryPrimitives.WriteInt32BigEndian(bytes, size);
        new Random(size).NextBytes(bytes.AsSpan(4));
        var sw = Stopwatch.StartNew();
        await attacker.SendRawAsync(bytes);
        Assert.True(await attacker.IsClosedAsync(CloseTimeout), $"size {size}: not closed");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"size {size}: closed after {sw.Elapsed}");
        long grown = WorkingSet() - workingSetBefore;
        Assert.True(grown < 500L << 20, $"working set grew by {grown >> 20} MB");
        Assert.True(await WaitUntilAsync(() => broker.Logs.Lines.Any(l => l.Contains($"request size {size} outside", StringComparison.Ordinal)), CloseTimeout));

        await AssertApiVersionsRoundTripAsync(bystander);
        await AssertApiVersionsRoundTripAsync(broker);
    }

    [Fact]
    public async Task Request_over_socket_request_max_bytes_is_closed_and_one_under_it_is_served()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["socket.request.max.bytes"] = "1048576" });
        await CreateTopicAsync(broker, "big");
        await using var bystander = await RawKafkaClient.ConnectAsync(broker);

        // Just under the limit: a 512 KiB batch is accepted.
        await using (var ok = await RawKafkaClient.ConnectAsync(broker))
        {
            var response = await ok.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, ProduceRequest("big", 0, Batch(1, 512 << 10)));
            Assert.Equal(0, Assert.Single(Assert.Single(response.Responses).PartitionResponses).ErrorCode);
        }

        await using var attacker = await RawKafkaClient.ConnectAsync(broker);
        var frame = RawKafkaClient.Frame(ApiKey.Produce, 9, ProduceRequest("big", 0, Batch(1, 1536 << 10)), 1);
        Assert.True(frame.Length - 4 > 1 << 20);
        try
        {
            await attacker.SendRawAsync(frame);
        }
        catch (IOException)
        {
            // The broker may close (and reset) before the whole frame is written.
        }
        Assert.True(await attacker.IsClosedAsync(CloseTimeout));
        Assert.True(await WaitUntilAsync(() => broker.Logs.Lines.Any(l => l.Contains($"request size {frame.Length - 4} outside [10, 1048576]", StringComparison.Ordinal)), CloseTimeout));

        await AssertApiVersionsRoundTripAsync(bystander);
        Assert.Equal(1, await LatestOffsetAsync(bystander, "big", 0));
    }

    [Fact]
    public async Task Unknown_api_key_closes_the_connection()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        await AssertApiVersionsRoundTripAsync(client);
        await client.SendRawAsync(RawKafkaClient.RawFrame(999, 0, 42, [0, 0, 0, 0]));
        Assert.True(await client.IsClosedAsync(CloseTimeout));
        Assert.Contains(broker.Logs.Lines, l => l.Contains("unknown API key 999", StringComparison.Ordinal));
        await AssertApiVersionsRoundTripAsync(broker);
    }

    [Fact]
    public async Task Unsupported_metadata_version_closes_the_connection()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        // Metadata v12 and v99 share request header v2, so patching the version keeps the frame well formed.
        var frame = RawKafkaClient.Frame(ApiKey.Metadata, 12, new MetadataRequest { Topics = null }, 7);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), 99);
        await client.SendRawAsync(frame);
        Assert.True(await client.IsClosedAsync(CloseTimeout));
        Assert.True(await WaitUntilAsync(() => broker.Logs.Lines.Any(l => l.Contains("unsupported version 99 of Metadata", StringComparison.Ordinal)), CloseTimeout));
        await AssertApiVersionsRoundTripAsync(broker);
    }

    [Fact]
    public async Task Malformed_body_closes_the_connection()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        // A Metadata v12 request whose topic array claims 1000 entries but ends after the header.
        var frame = RawKafkaClient.Frame(ApiKey.Metadata, 12, new MetadataRequest(), 7);
        int headerEnd = 4 + 2 + 2 + 4 + 2 + "raw-test".Length + 1;
        var truncated = frame.AsSpan(0, headerEnd + 2).ToArray();
        truncated[headerEnd] = 0x85; // unsigned varint continuation: 1000+1 entries
        truncated[headerEnd + 1] = 0x07;
        BinaryPrimitives.WriteInt32BigEndian(truncated, truncated.Length - 4);
        await client.SendRawAsync(truncated);
        Assert.True(await client.IsClosedAsync(CloseTimeout));
        Assert.True(await WaitUntilAsync(() => broker.Logs.Lines.Any(l => l.Contains("malformed Metadata v12 request", StringComparison.Ordinal)), CloseTimeout));
        await AssertApiVersionsRoundTripAsync(broker);
    }

    [Fact]
    public async Task ApiVersions_with_unsupported_version_gets_v0_response_with_UNSUPPORTED_VERSION_and_the_key_list()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        var frame = RawKafkaClient.Frame(ApiKey.ApiVersions, 3, new ApiVersionsRequest { ClientSoftwareName = "future", ClientSoftwareVersion = "9" }, 5);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), 99);
        await client.SendRawAsync(frame);
        client.Expect(ApiKey.ApiVersions, 0, 5); // KIP-511: the answer is a v0 body whatever was asked
        var response = await client.ReceiveAsync<ApiVersionsResponse>();
        Assert.Equal((short)ErrorCode.UnsupportedVersion, response.ErrorCode);
        Assert.Equal(35, response.ErrorCode);
        var apiVersions = Assert.Single(response.ApiKeys, k => k.ApiKey == (short)ApiKey.ApiVersions);
        Assert.Equal(0, apiVersions.MinVersion);
        Assert.True(apiVersions.MaxVersion >= 3);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.Produce);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.Fetch);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.Metadata);
        // The connection stays open and the client retries with a supported version.
        await AssertApiVersionsRoundTripAsync(client);
    }
}
