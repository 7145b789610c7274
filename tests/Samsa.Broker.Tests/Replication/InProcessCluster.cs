using System.Collections;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Configuration;
using Partition = Samsa.Broker.Replication.Partition;
using Samsa.Broker.Tests.Integration;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests.Replication;

/// <summary>
/// Several real Samsa nodes in this process, each with its own data directory and loopback port, sharing one
/// <see cref="InMemoryMetadataLog"/> and one controller (standing in for the Raft metadata quorum). Partition data
/// moves between them exactly as in a real cluster: over sockets, by follower fetches. Nodes stop gracefully and start
/// again on the same port and data directory.
/// </summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private readonly Dictionary<string, string> _overrides;
    private readonly string _root;

    private InProcessCluster(string root, Dictionary<string, string> overrides)
    {
        _root = root;
        _overrides = overrides;
        Controller = new Controller(Metadata, -1, NullLogger.Instance);
    }

    public InMemoryMetadataLog Metadata { get; } = new();
    public Controller Controller { get; }
    public Dictionary<int, Node> Nodes { get; } = [];

    public sealed class Node(int id, string dataDir)
    {
        public int Id { get; } = id;
        public string DataDir { get; } = dataDir;
        public int Port { get; set; }
        public BrokerHost? Host { get; set; }
        public TestLoggerProvider Logs { get; } = new();
        public bool IsRunning => Host is not null;
        public string Endpoint => $"127.0.0.1:{Port}";
    }

    public static async Task<InProcessCluster> StartAsync(int nodes, IDictionary<string, string>? overrides = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "samsa-cluster-" + Guid.NewGuid().ToString("N")[..10]);
        var all = new Dictionary<string, string>
        {
            ["http.listener"] = "",
            ["cluster.id"] = "in-process-cluster",
            ["num.partitions"] = "1",
            ["replica.fetch.wait.max.ms"] = "200",
            ["replica.fetch.backoff.ms"] = "100",
        };
        if (overrides is not null)
            foreach (var (k, v) in overrides) all[k] = v;
        var cluster = new InProcessCluster(root, all);
        for (int id = 1; id <= nodes; id++) cluster.Nodes[id] = new Node(id, Path.Combine(root, $"node-{id}"));
        foreach (var node in cluster.Nodes.Values) await cluster.StartNodeAsync(node.Id);
        return cluster;
    }

    public async Task StartNodeAsync(int id)
    {
        var node = Nodes[id];
        var overrides = new Dictionary<string, string>(_overrides)
        {
            ["node.id"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["listeners"] = $"PLAINTEXT://127.0.0.1:{node.Port}",
            ["log.dirs"] = node.DataDir,
        };
        var config = BrokerConfig.Load(null, overrides, new Hashtable());
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(node.Logs).SetMinimumLevel(LogLevel.Information));
        node.Host = await BrokerHost.StartAsync(config, loggerFactory, default, new BrokerHost.MetadataOverride(Metadata, Controller));
        node.Port = node.Host.BoundEndpoints[0].Port;
    }

    public async Task StopNodeAsync(int id)
    {
        var node = Nodes[id];
        if (node.Host is { } host)
        {
            node.Host = null;
            await host.DisposeAsync();
        }
    }

    public string BootstrapServers => string.Join(",", Nodes.Values.Where(n => n.IsRunning).Select(n => n.Endpoint));

    public Partition? PartitionOn(int nodeId, string topic, int partition = 0) => Nodes[nodeId].Host?.Replicas.Get(topic, partition);

    public PartitionImage PartitionImage(string topic, int partition = 0) => Metadata.Image.Topic(topic)!.Partitions[partition];

    /// <summary>Creates a topic with a CreateTopics request carrying an explicit assignment (the first replica leads).</summary>
    public async Task CreateTopicAsync(string topic, int[] replicas, int minInsyncReplicas)
    {
        // Confluent.Kafka's admin client refuses an assignment with its default partition count, so a raw request.
        var node = Nodes.Values.First(n => n.IsRunning);
        await using var client = await RawKafkaClient.ConnectAsync(node.Host!.BoundEndpoints[0]);
        var request = new CreateTopicsRequest { TimeoutMs = 10_000 };
        request.Topics.Add(new CreateTopicsRequest.CreatableTopic
        {
            Name = topic, NumPartitions = -1, ReplicationFactor = -1,
            Assignments = [new() { PartitionIndex = 0, BrokerIds = [.. replicas] }],
            Configs = [new() { Name = "min.insync.replicas", Value = minInsyncReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture) }],
        });
        var response = await client.RequestAsync<CreateTopicsResponse>(ApiKey.CreateTopics, 7, request);
        var result = Assert.Single(response.Topics);
        Assert.True(result.ErrorCode == 0, $"CreateTopics {topic}: error {result.ErrorCode} {result.ErrorMessage}");
        await WaitUntilAsync(() => replicas.All(r => !Nodes[r].IsRunning || PartitionOn(r, topic) is not null), "partition opened on every running replica");
    }

    public IProducer<string, string> Producer(Acks acks, int messageTimeoutMs = 30_000, int? retries = null) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers, Acks = acks, MessageTimeoutMs = messageTimeoutMs, LingerMs = 0, MessageSendMaxRetries = retries,
            TopicMetadataRefreshIntervalMs = 500, RetryBackoffMs = 50, RetryBackoffMaxMs = 200,
        }).Build();

    /// <summary>Every record batch of a replica's log from its start to its end: (base offset, epoch, exact bytes).</summary>
    public static List<(long Offset, int Epoch, byte[] Bytes)> Batches(Partition partition)
    {
        var result = new List<(long, int, byte[])>();
        var log = partition.Log;
        long offset = log.LogStartOffset;
        while (offset < log.LogEndOffset)
        {
            var read = log.Read(offset, 1 << 20, long.MaxValue, minOneBatch: true);
            if (read.Records.IsEmpty) break;
            var reader = new RecordBatchReader(read.Records);
            while (reader.TryReadNext(out var batch))
            {
                result.Add((batch.BaseOffset, batch.Header.PartitionLeaderEpoch, batch.Memory.ToArray()));
                offset = batch.LastOffset + 1;
            }
        }
        return result;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        if (!await BadInputHelpers.WaitUntilAsync(condition, TimeSpan.FromMilliseconds(timeoutMs)))
            Assert.Fail($"Timed out after {timeoutMs} ms waiting until {what}.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes.Values) await StopNodeAsync(node.Id);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
