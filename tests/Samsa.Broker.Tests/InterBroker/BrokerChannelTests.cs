using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Network.InterBroker;
using Samsa.Broker.Tests.Integration;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Tests.InterBroker;

/// <summary>The inter-broker client against a real in-process node (and, for bad peers, a raw socket).</summary>
public sealed class BrokerChannelTests
{
    private static BrokerChannel ChannelTo(TestBroker broker, BrokerChannelOptions? options = null, IBrokerConnectionFactory? factory = null)
    {
        var endpoint = broker.Host.BoundEndpoints[0];
        var target = new BrokerEndpoint("PLAINTEXT", endpoint.Address.ToString(), endpoint.Port, "PLAINTEXT");
        return new BrokerChannel(broker.Host.Node.NodeId, () => target, factory ?? PlaintextConnectionFactory.Instance,
            options ?? new BrokerChannelOptions { ClientId = "channel-test" }, NullLogger.Instance);
    }

    private static MetadataRequest MetadataFor(params string[] topics) => new()
    {
        Topics = [.. topics.Select(t => new MetadataRequest.MetadataRequestTopic { Name = t })],
        AllowAutoTopicCreation = false,
    };

    [Fact]
    public async Task Negotiates_versions_and_sends_at_the_highest_common_one()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var channel = ChannelTo(broker);

        using var response = await channel.SendPooledAsync<MetadataRequest, MetadataResponse>(MetadataFor());
        Assert.Equal(12, response.Version);
        Assert.Contains(response.Body.Brokers, b => b.NodeId == broker.Host.Node.NodeId && b.Port == broker.Host.BoundEndpoints[0].Port);
        Assert.True(channel.IsConnected);
        Assert.Equal(new VersionRange(4, 16), channel.PeerVersions![ApiKey.Fetch]);

        // An explicit version is used as given; one the peer lacks is refused before anything is sent.
        var v4 = await channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor(), version: 4);
        Assert.Single(v4.Brokers);
        var refused = await Assert.ThrowsAsync<ProtocolException>(() =>
            channel.SendAsync<FetchRequest, FetchResponse>(new FetchRequest(), version: 17));
        Assert.Equal(ErrorCode.UnsupportedVersion, refused.ErrorCode);
        Assert.True(channel.IsConnected);
    }

    [Fact]
    public async Task Many_requests_in_flight_are_matched_to_their_responses()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var channel = ChannelTo(broker);
        var names = Enumerable.Range(0, 64).Select(i => $"missing-{i}").ToArray();
        var responses = await Task.WhenAll(names.Select(n => channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor(n))));
        for (int i = 0; i < names.Length; i++)
        {
            var topic = Assert.Single(responses[i].Topics);
            Assert.Equal(names[i], topic.Name);
            Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, topic.ErrorCode);
        }
    }

    [Fact]
    public async Task A_timed_out_request_fails_and_the_next_one_reconnects()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "idle");
        await using var channel = ChannelTo(broker);
        var topicId = (await channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor("idle"))).Topics[0].TopicId;

        // A long poll on an empty partition answers after 5 s; the request timeout is 300 ms.
        var fetch = new FetchRequest
        {
            MaxWaitMs = 5000, MinBytes = 1, SessionEpoch = -1,
            Topics = [new() { TopicId = topicId, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        };
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutException>(() =>
            channel.SendAsync<FetchRequest, FetchResponse>(fetch, timeout: TimeSpan.FromMilliseconds(300)));
        Assert.InRange(sw.ElapsedMilliseconds, 250, 4000);
        Assert.False(channel.IsConnected); // as Kafka: a timed-out connection is closed

        var again = await channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor("idle"));
        Assert.Equal(0, again.Topics[0].ErrorCode);
        Assert.True(channel.IsConnected);
    }

    [Fact]
    public async Task Reconnects_after_the_peer_restarts()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var channel = ChannelTo(broker);
        await channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor());
        await broker.RestartAsync();

        // The old connection dies with the old node; a request racing that close fails and the next one reconnects.
        MetadataResponse? response = null;
        var sw = Stopwatch.StartNew();
        while (response is null && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                response = await channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor());
            }
            catch (BrokerUnavailableException)
            {
            }
        }
        Assert.NotNull(response);
        Assert.Single(response.Brokers);
    }

    [Fact]
    public async Task Failed_connects_back_off_exponentially_and_recover()
    {
        await using var broker = await TestBroker.StartAsync();
        var factory = new SwitchableFactory { Down = true };
        var options = new BrokerChannelOptions
        {
            ReconnectBackoff = TimeSpan.FromMilliseconds(50), ReconnectBackoffMax = TimeSpan.FromMilliseconds(400),
        };
        await using var channel = ChannelTo(broker, options, factory);
        for (int i = 0; i < 5; i++)
            await Assert.ThrowsAsync<BrokerUnavailableException>(() => channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor()));
        var gaps = factory.Attempts.Zip(factory.Attempts.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        Assert.Equal(4, gaps.Length);
        // 50, 100, 200, 400 ms ± 20% jitter (the lower bound is what matters: no hot reconnect loop).
        Assert.True(gaps[0] >= 39 && gaps[1] >= 79 && gaps[2] >= 159 && gaps[3] >= 319, string.Join(", ", gaps));

        factory.Down = false;
        var response = await channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor());
        Assert.Single(response.Brokers);
    }

    [Fact]
    public async Task Dispose_fails_requests_in_flight_and_refuses_new_ones()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "idle");
        var channel = ChannelTo(broker);
        var fetch = new FetchRequest
        {
            MaxWaitMs = 10_000, MinBytes = 1, SessionEpoch = -1,
            Topics = [new() { Topic = "idle", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        };
        var inFlight = channel.SendAsync<FetchRequest, FetchResponse>(fetch, version: 12);
        Assert.True(await BadInputHelpers.WaitUntilAsync(() => channel.IsConnected, TimeSpan.FromSeconds(5)));
        var sw = Stopwatch.StartNew();
        await channel.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        Assert.True(inFlight.Exception!.InnerException is ObjectDisposedException or BrokerUnavailableException,
            inFlight.Exception.InnerException!.GetType().Name);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor()));
    }

    [Fact]
    public async Task Pooled_fetch_records_are_slices_valid_until_disposed()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "data");
        await using (var raw = await RawKafkaClient.ConnectAsync(broker))
        {
            for (int i = 0; i < 3; i++)
            {
                var produced = await raw.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, BadInputHelpers.ProduceRequest("data", 0, BadInputHelpers.Batch(10)));
                Assert.Equal(0, produced.Responses[0].PartitionResponses[0].ErrorCode);
            }
        }
        await using var channel = ChannelTo(broker);
        var fetch = new FetchRequest
        {
            MaxWaitMs = 100, MinBytes = 1, SessionEpoch = -1,
            Topics = [new() { Topic = "data", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        };
        using var response = await channel.SendPooledAsync<FetchRequest, FetchResponse>(fetch, version: 12);
        var partition = response.Body.Responses[0].Partitions[0];
        Assert.Equal(0, partition.ErrorCode);
        Assert.Equal(30, partition.HighWatermark);
        var reader = new RecordBatchReader(partition.Records!.Value);
        long next = 0;
        while (reader.TryReadNext(out var batch))
        {
            Assert.Equal(next, batch.BaseOffset);
            next = batch.LastOffset + 1;
        }
        Assert.Equal(30, next);
    }

    [Fact]
    public async Task A_peer_sending_an_oversized_or_garbage_frame_is_disconnected()
    {
        foreach (var reply in new Func<int, byte[]>[] { _ => [0x7f, 0xff, 0xff, 0xff], Garbage })
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var peer = Task.Run(async () =>
            {
                using var socket = await listener.AcceptSocketAsync();
                var request = new byte[4096];
                int read = await socket.ReceiveAsync(request);
                int correlationId = BinaryPrimitives.ReadInt32BigEndian(request.AsSpan(8));
                await socket.SendAsync(reply(correlationId));
                await Task.Delay(5000); // keep the socket open: the client must close it
            });
            var endpoint = new BrokerEndpoint("PLAINTEXT", "127.0.0.1", port, "PLAINTEXT");
            await using var channel = new BrokerChannel(7, () => endpoint, PlaintextConnectionFactory.Instance,
                new BrokerChannelOptions { NegotiateVersions = false, MaxResponseBytes = 1 << 20 }, NullLogger.Instance);
            await Assert.ThrowsAsync<BrokerUnavailableException>(() =>
                channel.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor(), version: 12, timeout: TimeSpan.FromSeconds(5)));
            Assert.False(channel.IsConnected);
        }

        // A frame of the right correlation id whose body is not a Metadata v12 response.
        static byte[] Garbage(int correlationId)
        {
            var frame = new byte[4 + 4 + 3];
            BinaryPrimitives.WriteInt32BigEndian(frame, 7);
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), correlationId);
            frame[8] = 0xff;
            frame[9] = 0xff;
            frame[10] = 0xff;
            return frame;
        }
    }

    [Fact]
    public async Task The_pool_resolves_nodes_by_id_on_the_inter_broker_listener()
    {
        await using var broker = await TestBroker.StartAsync();
        string dir = Path.Combine(Path.GetTempPath(), "samsa-pool-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using var metadata = LocalMetadataLog.Open(dir, NullLogger.Instance);
            int port = broker.Host.BoundEndpoints[0].Port;
            await metadata.AppendAsync([new RegisterBrokerRecord(5,
                [new BrokerEndpoint("CLIENTS", "127.0.0.1", 1, "PLAINTEXT"), new BrokerEndpoint("REPLICATION", "127.0.0.1", port, "PLAINTEXT")],
                null, Guid.NewGuid())]);
            await using var pool = new BrokerChannelPool(() => metadata.Image, "REPLICATION", PlaintextConnectionFactory.Instance,
                new BrokerChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(2) }, NullLoggerFactory.Instance);

            Assert.Equal(port, pool.Resolve(5)!.Port);
            Assert.Same(pool.Get(5), pool.Get(5));
            var response = await pool.Get(5).SendAsync<MetadataRequest, MetadataResponse>(MetadataFor());
            Assert.Single(response.Brokers);
            await using (var dedicated = pool.CreateDedicated(5))
            {
                Assert.NotSame(pool.Get(5), dedicated);
                await dedicated.SendAsync<MetadataRequest, MetadataResponse>(MetadataFor());
            }
            Assert.Null(pool.Resolve(6));
            var unknown = await Assert.ThrowsAsync<BrokerUnavailableException>(() => pool.Get(6).SendAsync<MetadataRequest, MetadataResponse>(MetadataFor()));
            Assert.Contains("no registered endpoint", unknown.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Records connect attempts; while <see cref="Down"/> every attempt is refused like a closed port.</summary>
    private sealed class SwitchableFactory : IBrokerConnectionFactory
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<TimeSpan> _attempts = new();

        public volatile bool Down;

        public IReadOnlyList<TimeSpan> Attempts => [.. _attempts];

        public ValueTask<Stream> ConnectAsync(BrokerEndpoint endpoint, CancellationToken cancellationToken)
        {
            _attempts.Enqueue(_clock.Elapsed);
            if (Down) throw new SocketException((int)SocketError.ConnectionRefused);
            return PlaintextConnectionFactory.Instance.ConnectAsync(endpoint, cancellationToken);
        }
    }
}
