using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using static Samsa.Broker.Tests.Integration.BadInputHelpers;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Mutation fuzzing of a live broker over real sockets: valid requests of many APIs are bit-flipped, spliced, truncated,
/// given random length fields, api keys and versions, and pipelined over many connections. Whatever arrives, the
/// broker answers or closes that connection (DESIGN principle 8); afterwards it still serves a real client and has not
/// leaked a connection. Seeded, so a failure reproduces.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20240611;
    private const int Mutations = 100_000;
    private const int Workers = 8;
    private const int FramesPerRound = 8;
    private const string Topic = "fuzz";
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);
    // A hang guard, not a performance target: on a loaded 2-core CI machine 100k frames can take a couple of minutes.
    private static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(240);

    private static long Processed(Stats stats) =>
        Interlocked.Read(ref stats.Responses) - Interlocked.Read(ref stats.Sentinels) + Interlocked.Read(ref stats.ClosedByBroker);

    private sealed class Stats
    {
        public long Sent;
        public long Responses;
        public long Sentinels;
        public long Connections;
        public long ClosedByBroker;
        public long Stalled;
        public long Rounds;
        public System.Collections.Concurrent.ConcurrentQueue<byte[][]> StalledRounds { get; } = new();
    }

    [Fact]
    public async Task Mutated_requests_never_crash_the_broker_or_leak_connections()
    {
        var total = Stopwatch.StartNew();
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string>
        {
            // The log is scratch: skip the per-produce fsync so the run measures request handling, not the disk.
            ["log.flush.interval.messages"] = long.MaxValue.ToString(CultureInfo.InvariantCulture),
        });
        await CreateTopicAsync(broker, Topic);
        var endpoint = broker.Host.BoundEndpoints[0];
        var seeds = SeedFrames(broker.Host.Node.NodeId);
        await CheckSeedsAreValidAsync(endpoint, seeds);
        Assert.True(await WaitUntilAsync(() => broker.Host.Metrics.OpenConnections == 0, TimeSpan.FromSeconds(5)));
        long baseline = broker.Host.Metrics.OpenConnections;

        var stats = new Stats();
        var fuzz = Stopwatch.StartNew();
        // Run until the broker has dealt with enough mutated frames (answered them, or closed the connection on one);
        // frames pipelined behind a closing frame are sent but never read, so "sent" alone would overstate the work.
        bool More() => Processed(stats) < Mutations && fuzz.Elapsed < TimeBudget;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w =>
            Task.Run(() => RunWorkerAsync(endpoint, seeds, new Random(Seed + w), More, stats))));
        fuzz.Stop();

        long answered = stats.Responses - stats.Sentinels;
        output.WriteLine($"{Processed(stats)} mutated frames processed, {stats.Sent} sent in {fuzz.Elapsed.TotalSeconds:F1} s over {stats.Connections} connections in {stats.Rounds} rounds; " +
                         $"{answered} answered, {stats.ClosedByBroker} connections closed by the broker (each on one frame, the rest of that round unread), " +
                         $"{stats.Stalled} abandoned after {ReadTimeout.TotalSeconds} s without an answer");
        Assert.True(Processed(stats) >= Mutations, $"only {Processed(stats)} frames processed in {fuzz.Elapsed}");
        var reasons = broker.Logs.Lines
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"Closing connection \S+ from \S+: (.*)"))
            .Where(m => m.Success)
            .GroupBy(m => System.Text.RegularExpressions.Regex.Replace(m.Groups[1].Value, @"-?\d+", "N"))
            .OrderByDescending(g => g.Count());
        foreach (var g in reasons.Take(25)) output.WriteLine($"  {g.Count(),6} closed: {g.Key}");
        foreach (var stalled in stats.StalledRounds.Take(5))
        {
            // Replay each frame of a stalled round alone to name the request that got no answer.
            foreach (var frame in stalled)
            {
                await using var probe = await RawKafkaClient.ConnectAsync(endpoint);
                await probe.SendRawAsync(frame);
                try
                {
                    await probe.ReceiveFrameAsync(TimeSpan.FromSeconds(2));
                    continue;
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception e) when (e is IOException or EndOfStreamException or SocketException)
                {
                    continue;
                }
                output.WriteLine($"  stalled frame: {Convert.ToHexString(frame)}");
            }
        }

        // Every connection the fuzzer opened is gone on the broker side too.
        Assert.True(await WaitUntilAsync(() => broker.Host.Metrics.OpenConnections == baseline, TimeSpan.FromSeconds(15)),
            $"open connections {broker.Host.Metrics.OpenConnections}, baseline {baseline}");

        // No handler crashed on input that passed decoding.
        var errors = UnexpectedErrors(broker);
        foreach (var line in errors.Take(20)) output.WriteLine(line);
        Assert.Empty(errors);
        var otherErrors = broker.Logs.Lines.Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal)).ToList();
        foreach (var line in otherErrors.Take(20)) output.WriteLine(line);
        Assert.Empty(otherErrors);

        // Still a working broker for a real client.
        await AssertApiVersionsRoundTripAsync(broker);
        await CreateTopicAsync(broker, "after-fuzz");
        await AssertConfluentRoundTripAsync(broker, "after-fuzz");
        output.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task RunWorkerAsync(IPEndPoint endpoint, byte[][] seeds, Random random, Func<bool> takeTicket, Stats stats)
    {
        var readBuffer = new byte[64 * 1024];
        bool more = true;
        while (more)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
            await socket.ConnectAsync(endpoint);
            Interlocked.Increment(ref stats.Connections);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            bool open = true;
            while (open && more)
            {
                // One round: several mutated frames, then (unless a frame broke the framing) a valid sentinel whose
                // answer proves every frame before it was processed; responses come back in request order.
                var round = new MemoryStream();
                var roundFrames = new List<byte[]>();
                bool framingBroken = false;
                int frames = 0;
                while (frames < FramesPerRound && !framingBroken)
                {
                    if (!takeTicket())
                    {
                        more = false;
                        break;
                    }
                    var mutated = Mutate(seeds[random.Next(seeds.Length)], random, out framingBroken);
                    roundFrames.Add(mutated);
                    round.Write(mutated);
                    frames++;
                }
                if (frames == 0) break;
                int sentinel = random.Next() | 0x40000000;
                if (!framingBroken)
                    round.Write(RawKafkaClient.Frame(ApiKey.ApiVersions, 3, new ApiVersionsRequest(), sentinel));
                Interlocked.Add(ref stats.Sent, frames);
                Interlocked.Increment(ref stats.Rounds);

                try
                {
                    await stream.WriteAsync(round.GetBuffer().AsMemory(0, (int)round.Length));
                    // A frame whose size no longer matches its bytes leaves the broker waiting for the rest; end the
                    // stream so it sees the client give up mid-frame.
                    if (framingBroken) socket.Shutdown(SocketShutdown.Send);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    Interlocked.Increment(ref stats.ClosedByBroker);
                    break;
                }

                var outcome = await DrainAsync(stream, readBuffer, framingBroken ? null : sentinel, stats);
                if (outcome == Drain.Sentinel) continue;
                if (outcome == Drain.Closed) Interlocked.Increment(ref stats.ClosedByBroker);
                else
                {
                    Interlocked.Increment(ref stats.Stalled);
                    stats.StalledRounds.Enqueue(roundFrames.ToArray());
                }
                open = false;
            }
        }
    }

    private enum Drain
    {
        Sentinel,
        Closed,
        TimedOut,
    }

    /// <summary>Reads responses until the sentinel's answer, EOF/reset, or the timeout.</summary>
    private static async Task<Drain> DrainAsync(NetworkStream stream, byte[] buffer, int? sentinel, Stats stats)
    {
        using var cts = new CancellationTokenSource(ReadTimeout);
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), cts.Token);
                int size = BinaryPrimitives.ReadInt32BigEndian(buffer);
                Assert.InRange(size, 4, 256 << 20);
                if (buffer.Length < size) buffer = new byte[size];
                await stream.ReadExactlyAsync(buffer.AsMemory(0, size), cts.Token);
                Interlocked.Increment(ref stats.Responses);
                if (sentinel is { } id && BinaryPrimitives.ReadInt32BigEndian(buffer) == id)
                {
                    Interlocked.Increment(ref stats.Sentinels);
                    return Drain.Sentinel;
                }
            }
        }
        catch (EndOfStreamException)
        {
            return Drain.Closed;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return Drain.Closed;
        }
        catch (OperationCanceledException)
        {
            return Drain.TimedOut;
        }
    }

    private static readonly int[] InterestingInts =
        [0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 1_000_000, 0x7FFFFFFF, int.MinValue, 0x7FFFFFFE];

    /// <summary>
    /// A mutated copy of a valid frame. Usually the size prefix is recomputed so the frame boundary holds and the
    /// mutation reaches the header and body decoders; sometimes the prefix itself is wrong
    /// (<paramref name="framingBroken"/>), which must end the frame stream.
    /// </summary>
    private static byte[] Mutate(byte[] seed, Random random, out bool framingBroken)
    {
        return Mutate(seed, HeaderLength(seed), random, out framingBroken);
    }

    /// <summary>Bytes of the request header after the size prefix: api key, version, correlation id, client id (+ tags).</summary>
    private static int HeaderLength(byte[] frame)
    {
        var apiKey = (ApiKey)BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(4));
        short version = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(6));
        int clientIdLength = Math.Max(0, (int)BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(12)));
        return 10 + clientIdLength + (Samsa.Protocol.Serialization.KafkaFrames.RequestHeaderVersion(apiKey, version) >= 2 ? 1 : 0);
    }

    private static byte[] Mutate(byte[] seed, int headerLength, Random random, out bool framingBroken)
    {
        framingBroken = false;
        int kind = random.Next(1000);
        if (kind < 15)
        {
            framingBroken = true;
            var frame = (byte[])seed.Clone();
            BinaryPrimitives.WriteInt32BigEndian(frame, random.Next(2) == 0 ? Pick(random) : random.Next());
            return frame;
        }
        if (kind < 30)
        {
            framingBroken = true;
            return seed[..random.Next(1, seed.Length)];
        }

        var payload = new List<byte>(seed.AsSpan(4).ToArray());
        // Mostly one mutation, and mostly in the body: header damage only exercises the dispatcher's early exits,
        // while body damage that still decodes reaches the handlers.
        int count = random.Next(10) switch { < 7 => 1, < 9 => 2, _ => 3 };
        for (int i = 0; i < count; i++)
        {
            int op = random.Next(100);
            bool inHeader = random.Next(10) == 0 || payload.Count <= headerLength;
            int at = payload.Count == 0 ? 0 : inHeader ? random.Next(payload.Count) : random.Next(headerLength, payload.Count);
            if (!inHeader && op >= 80 && op < 96) op = random.Next(80); // api key / version changes are header mutations
            switch (op)
            {
                case < 30 when payload.Count > 0:
                    payload[at] ^= (byte)(1 << random.Next(8));
                    break;
                case < 40 when payload.Count > 0:
                    payload[at] = (byte)random.Next(256);
                    break;
                case < 50:
                {
                    var bytes = new byte[1 + random.Next(8)];
                    random.NextBytes(bytes);
                    payload.InsertRange(at, bytes);
                    break;
                }
                case < 60 when payload.Count > 0:
                    payload.RemoveRange(at, Math.Min(1 + random.Next(8), payload.Count - at));
                    break;
                case < 65:
                    payload.RemoveRange(at, payload.Count - at);
                    break;
                case < 80 when payload.Count > 0:
                {
                    // A length or count field replaced: int32, int16 or an unsigned varint (compact lengths).
                    Span<byte> bytes = stackalloc byte[5];
                    int n;
                    int value = Pick(random);
                    switch (random.Next(3))
                    {
                        case 0:
                            BinaryPrimitives.WriteInt32BigEndian(bytes, value);
                            n = 4;
                            break;
                        case 1:
                            BinaryPrimitives.WriteInt16BigEndian(bytes, (short)value);
                            n = 2;
                            break;
                        default:
                            uint v = (uint)value;
                            n = 0;
                            while (v >= 0x80)
                            {
                                bytes[n++] = (byte)(v | 0x80);
                                v >>= 7;
                            }
                            bytes[n++] = (byte)v;
                            break;
                    }
                    for (int j = 0; j < n && at + j < payload.Count; j++) payload[at + j] = bytes[j];
                    break;
                }
                case < 88 when payload.Count >= 2:
                {
                    short key = random.Next(2) == 0 ? (short)random.Next(0, 80) : (short)random.Next(short.MinValue, short.MaxValue + 1);
                    payload[0] = (byte)(key >> 8);
                    payload[1] = (byte)key;
                    break;
                }
                case < 96 when payload.Count >= 4:
                {
                    short version = random.Next(2) == 0 ? (short)random.Next(-2, 20) : (short)random.Next(short.MinValue, short.MaxValue + 1);
                    payload[2] = (byte)(version >> 8);
                    payload[3] = (byte)version;
                    break;
                }
                default:
                {
                    // Splice: a chunk of the frame repeated somewhere else.
                    if (payload.Count == 0) break;
                    int from = random.Next(payload.Count);
                    int length = Math.Min(1 + random.Next(32), payload.Count - from);
                    payload.InsertRange(at, payload.GetRange(from, length));
                    break;
                }
            }
        }
        var result = new byte[4 + payload.Count];
        BinaryPrimitives.WriteInt32BigEndian(result, payload.Count);
        payload.CopyTo(result, 4);
        return result;
    }

    private static int Pick(Random random) =>
        random.Next(4) == 0 ? random.Next(int.MinValue, int.MaxValue) : InterestingInts[random.Next(InterestingInts.Length)];

    private static byte[][] SeedFrames(int nodeId)
    {
        var frames = new List<byte[]>();
        int correlationId = 1;
        void Add(ApiKey key, short version, object body) => frames.Add(RawKafkaClient.Frame(key, version, body, correlationId++, "fuzzer"));

        Add(ApiKey.ApiVersions, 3, new ApiVersionsRequest { ClientSoftwareName = "fuzzer", ClientSoftwareVersion = "1.0" });
        Add(ApiKey.ApiVersions, 0, new ApiVersionsRequest());
        Add(ApiKey.Metadata, 12, new MetadataRequest { Topics = [new() { Name = Topic }], AllowAutoTopicCreation = false });
        Add(ApiKey.Metadata, 9, new MetadataRequest { Topics = [new() { Name = Topic }, new() { Name = "fuzz-missing" }], AllowAutoTopicCreation = false });
        Add(ApiKey.Metadata, 1, new MetadataRequest { Topics = null });
        Add(ApiKey.Produce, 9, ProduceRequest(Topic, 0, Batch(3), acks: 1));
        Add(ApiKey.Produce, 3, ProduceRequest(Topic, 0, Batch(2), acks: -1));
        Add(ApiKey.Produce, 11, ProduceRequest(Topic, 0, Batch(1), acks: 1));
        foreach (short version in new short[] { 12, 4 })
        {
            Add(ApiKey.Fetch, version, new FetchRequest
            {
                MaxWaitMs = 0, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
                Topics = [new() { Topic = Topic, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
            });
        }
        Add(ApiKey.ListOffsets, 7, new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }] }],
        });
        Add(ApiKey.ListOffsets, 1, new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, Timestamp = -2 }] }],
        });
        foreach (short version in new short[] { 7, 4 })
        {
            Add(ApiKey.CreateTopics, version, new CreateTopicsRequest
            {
                ValidateOnly = true, TimeoutMs = 5000,
                Topics =
                [
                    new()
                    {
                        Name = "fuzz-new", NumPartitions = 3, ReplicationFactor = 1,
                        Configs = [new() { Name = "cleanup.policy", Value = "compact" }, new() { Name = "retention.ms", Value = "1000" }],
                    },
                ],
            });
        }
        Add(ApiKey.DescribeConfigs, 4, new DescribeConfigsRequest
        {
            IncludeSynonyms = true, IncludeDocumentation = true,
            Resources = [new() { ResourceType = 2, ResourceName = Topic, ConfigurationKeys = null }, new() { ResourceType = 4, ResourceName = nodeId.ToString(CultureInfo.InvariantCulture), ConfigurationKeys = ["log.retention.ms"] }],
        });
        Add(ApiKey.DescribeConfigs, 1, new DescribeConfigsRequest { Resources = [new() { ResourceType = 2, ResourceName = Topic, ConfigurationKeys = ["retention.ms"] }] });
        Add(ApiKey.CreatePartitions, 3, new CreatePartitionsRequest { ValidateOnly = true, TimeoutMs = 5000, Topics = [new() { Name = Topic, Count = 2, Assignments = null }] });
        Add(ApiKey.InitProducerId, 4, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60_000 });
        Add(ApiKey.DescribeCluster, 1, new DescribeClusterRequest());
        Add(ApiKey.DescribeLogDirs, 4, new DescribeLogDirsRequest { Topics = null });
        Add(ApiKey.DeleteRecords, 2, new DeleteRecordsRequest { TimeoutMs = 5000, Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, Offset = 0 }] }] });
        Add(ApiKey.IncrementalAlterConfigs, 1, new IncrementalAlterConfigsRequest
        {
            ValidateOnly = true,
            Resources = [new() { ResourceType = 2, ResourceName = Topic, Configs = [new() { Name = "retention.ms", ConfigOperation = 0, Value = "600000" }] }],
        });
        Add(ApiKey.AlterConfigs, 2, new AlterConfigsRequest
        {
            ValidateOnly = true,
            Resources = [new() { ResourceType = 2, ResourceName = Topic, Configs = [new() { Name = "retention.ms", Value = "600000" }] }],
        });
        return frames.ToArray();
    }

    /// <summary>Unmutated, every seed is answered on one connection: the fuzzer starts from requests the broker accepts.</summary>
    private static async Task CheckSeedsAreValidAsync(IPEndPoint endpoint, byte[][] seeds)
    {
        await using var client = await RawKafkaClient.ConnectAsync(endpoint);
        foreach (var seed in seeds)
        {
            await client.SendRawAsync(seed);
            var response = await client.ReceiveFrameAsync();
            Assert.Equal(BinaryPrimitives.ReadInt32BigEndian(seed.AsSpan(8)), BinaryPrimitives.ReadInt32BigEndian(response));
        }
    }
}
