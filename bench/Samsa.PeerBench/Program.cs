using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using StackExchange.Redis;

// The same workload as `samsa perf produce` / `samsa perf consume`, against Redis Streams and NATS JetStream, so that
// bench/peers.sh compares brokers rather than client libraries written in different languages: one producer with
// a window of outstanding acknowledged writes (librdkafka pipelines the same way), then one consumer reading every
// record back in batches. Prints one JSON line per phase: {"system","phase","records","bytes","seconds",...}.
//
// usage: peerbench redis|nats produce|consume <host:port> <records> <record-size> [window]
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: peerbench redis|nats produce|consume <host:port> <records> <record-size> [window]");
    return 2;
}

string system = args[0];
string phase = args[1];
string address = args[2];
long records = long.Parse(args[3], CultureInfo.InvariantCulture);
int size = int.Parse(args[4], CultureInfo.InvariantCulture);
int window = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 1000;
var payload = new byte[size];
var random = new Random(42);
for (int i = 0; i < payload.Length; i++)
{
    payload[i] = (byte)('A' + random.Next(26));
}

var (count, bytes, seconds) = (system, phase) switch
{
    ("redis", "produce") => await RedisProduce(address, records, payload, window),
    ("redis", "consume") => await RedisConsume(address, records),
    ("nats", "produce") => await NatsProduce(address, records, payload, window),
    ("nats", "consume") => await NatsConsume(address, records),
    _ => throw new ArgumentException($"unknown {system} {phase}"),
};
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"system\":\"{system}\",\"phase\":\"{phase}\",\"records\":{count},\"bytes\":{bytes},\"seconds\":{seconds:F6},\"recordsPerSec\":{count / seconds:F1},\"mbPerSec\":{bytes / seconds / 1048576:F3}}}"));
return count == records ? 0 : 1;

// XADD with appendfsync always: Redis fsyncs the AOF before it answers the commands of one event-loop pass, so
// pipelined writes share an fsync exactly as Samsa's group commit does.
static async Task<(long, long, double)> RedisProduce(string address, long records, byte[] payload, int window)
{
    using var redis = await ConnectionMultiplexer.ConnectAsync($"{address},abortConnect=false");
    var db = redis.GetDatabase();
    await db.KeyDeleteAsync("perf");
    var pending = new Queue<Task<RedisValue>>(window);
    var watch = Stopwatch.StartNew();
    for (long i = 0; i < records; i++)
    {
        if (pending.Count == window)
        {
            await pending.Dequeue();
        }

        pending.Enqueue(db.StreamAddAsync("perf", "v", payload));
    }

    while (pending.Count > 0)
    {
        await pending.Dequeue();
    }

    return (records, records * payload.Length, watch.Elapsed.TotalSeconds);
}

static async Task<(long, long, double)> RedisConsume(string address, long records)
{
    using var redis = await ConnectionMultiplexer.ConnectAsync($"{address},abortConnect=false,syncTimeout=30000,asyncTimeout=30000");
    var db = redis.GetDatabase();
    long count = 0;
    long bytes = 0;
    RedisValue from = "-";
    var watch = Stopwatch.StartNew();
    while (count < records)
    {
        var entries = await db.StreamRangeAsync("perf", from, "+", count: 1000);
        if (entries.Length == 0)
        {
            break;
        }

        foreach (var entry in entries)
        {
            bytes += ((byte[])entry.Values[0].Value!).Length;
        }

        count += entries.Length;
        from = "(" + entries[^1].Id;
    }

    return (count, bytes, watch.Elapsed.TotalSeconds);
}

// JetStream publish acknowledgements (PubAck) with a window of outstanding publishes; file storage.
static async Task<(long, long, double)> NatsProduce(string address, long records, byte[] payload, int window)
{
    await using var nats = new NatsConnection(new NatsOpts { Url = $"nats://{address}" });
    var js = new NatsJSContext(nats);
    try
    {
        await js.DeleteStreamAsync("perf");
    }
    catch (NatsJSApiException)
    {
    }

    await js.CreateStreamAsync(new StreamConfig("perf", ["perf.>"]) { Storage = StreamConfigStorage.File });
    var pending = new Queue<Task<PubAckResponse>>(window);
    var watch = Stopwatch.StartNew();
    for (long i = 0; i < records; i++)
    {
        if (pending.Count == window)
        {
            (await pending.Dequeue()).EnsureSuccess();
        }

        pending.Enqueue(js.PublishAsync("perf.x", payload).AsTask());
    }

    while (pending.Count > 0)
    {
        (await pending.Dequeue()).EnsureSuccess();
    }

    return (records, records * payload.Length, watch.Elapsed.TotalSeconds);
}

// An ordered consumer: no per-message acknowledgement, flow-controlled pull, like a Kafka consumer reading a partition.
static async Task<(long, long, double)> NatsConsume(string address, long records)
{
    await using var nats = new NatsConnection(new NatsOpts { Url = $"nats://{address}" });
    var js = new NatsJSContext(nats);
    var consumer = await js.CreateOrderedConsumerAsync("perf");
    long count = 0;
    long bytes = 0;
    var watch = Stopwatch.StartNew();
    await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 10_000 }))
    {
        bytes += msg.Data?.Length ?? 0;
        if (++count == records)
        {
            break;
        }
    }

    return (count, bytes, watch.Elapsed.TotalSeconds);
}
