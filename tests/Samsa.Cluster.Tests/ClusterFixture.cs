using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// N Samsa nodes on loopback as child processes: the first <c>voters</c> run combined
/// (process.roles=broker,controller) and form the Raft metadata quorum; <see cref="AddBrokerOnlyNode"/> adds nodes
/// that follow the log without voting. Short heartbeat/session/election timeouts keep failover tests within seconds.
/// Dispose kills every node and deletes the data. Use <see cref="WaitForAsync{T}"/> to wait for a condition seen
/// through a real Kafka client (Confluent AdminClient) — never a fixed sleep.
/// </summary>
public sealed class ClusterFixture : IAsyncDisposable
{
    public const int SessionTimeoutMs = 2000;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "samsa-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<NodeProcess> _nodes = [];
    private readonly string _voters;
    private readonly IReadOnlyDictionary<string, string> _extra;

    public ClusterFixture(int voters = 3, IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        _extra = extraConfig ?? new Dictionary<string, string>();
        var ports = Enumerable.Range(0, voters).Select(_ => (Kafka: FreePort(), Controller: FreePort())).ToList();
        _voters = string.Join(",", ports.Select((p, i) => $"{i + 1}@127.0.0.1:{p.Controller}"));
        for (int i = 0; i < voters; i++)
            _nodes.Add(CreateNode(i + 1, ports[i].Kafka, ports[i].Controller, controller: true));
    }

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    public NodeProcess Node(int id) => _nodes.First(n => n.NodeId == id);

    public string Bootstrap => string.Join(",", _nodes.Where(n => n.IsRunning).Select(n => n.Bootstrap));

    public void StartAll()
    {
        foreach (var node in _nodes) node.Start();
    }

    /// <summary>A node with process.roles=broker: it registers and follows the metadata log, but does not vote.</summary>
    public NodeProcess AddBrokerOnlyNode()
    {
        int id = _nodes.Max(n => n.NodeId) + 1;
        var node = CreateNode(id, FreePort(), 0, controller: false);
        _nodes.Add(node);
        return node;
    }

    private NodeProcess CreateNode(int id, int kafkaPort, int controllerPort, bool controller)
    {
        var config = new Dictionary<string, string>
        {
            ["node.id"] = id.ToString(),
            ["process.roles"] = controller ? "broker,controller" : "broker",
            ["controller.quorum.voters"] = _voters,
            ["controller.listener.names"] = "CONTROLLER",
            ["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            ["listeners"] = controller
                ? $"PLAINTEXT://127.0.0.1:{kafkaPort},CONTROLLER://127.0.0.1:{controllerPort}"
                : $"PLAINTEXT://127.0.0.1:{kafkaPort}",
            ["log.dirs"] = Path.Combine(_root, $"node-{id}", "data"),
            ["http.listener"] = "",
            ["cluster.id"] = "samsa-cluster-test",
            ["broker.heartbeat.interval.ms"] = "300",
            ["broker.session.timeout.ms"] = SessionTimeoutMs.ToString(),
            ["controller.quorum.election.timeout.ms"] = "800",
            ["num.partitions"] = "3",
            ["default.replication.factor"] = "3",
            ["offsets.topic.replication.factor"] = "3",
            ["group.initial.rebalance.delay.ms"] = "0",
        };
        if (!controller)
            config["controller.quorum.bootstrap.servers"] = string.Join(",", _nodes.Where(n => n.ControllerPort > 0).Select(n => n.Bootstrap));
        foreach (var (k, v) in _extra) config[k] = v;
        return new NodeProcess(id, kafkaPort, controllerPort, Path.Combine(_root, $"node-{id}"), config);
    }

    public static IAdminClient Admin(string bootstrap) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = 20000 })
            .SetLogHandler((_, _) => { })
            .Build();

    /// <summary>Metadata as <paramref name="node"/> answers it (bootstrap only that node).</summary>
    public static Confluent.Kafka.Metadata MetadataOf(NodeProcess node)
    {
        using var admin = Admin(node.Bootstrap);
        return admin.GetMetadata(TimeSpan.FromSeconds(3));
    }

    /// <summary>DescribeCluster as <paramref name="node"/> answers it: the controller id it reports (-1 if none).</summary>
    public static async Task<int> ControllerSeenBy(NodeProcess node)
    {
        using var admin = Admin(node.Bootstrap);
        var cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = TimeSpan.FromSeconds(3) });
        return cluster.Controller?.Id ?? -1;
    }

    /// <summary>
    /// Polls <paramref name="probe"/> until it returns a non-null value (exceptions count as "not yet") or
    /// <paramref name="timeout"/> passes; fails with the last exception or <paramref name="what"/>.
    /// </summary>
    public static async Task<T> WaitForAsync<T>(string what, TimeSpan timeout, Func<Task<T?>> probe) where T : class
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < timeout)
        {
            try
            {
                if (await probe() is { } value) return value;
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException or TimeoutException)
            {
                last = e;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Timed out after {timeout} waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    public static Task<T> WaitForAsync<T>(string what, TimeSpan timeout, Func<T?> probe) where T : class =>
        WaitForAsync(what, timeout, () => Task.FromResult(probe()));

    /// <summary>Waits until every running node reports a controller and sees all <paramref name="brokers"/> live.</summary>
    public async Task WaitForClusterAsync(int brokers, TimeSpan timeout)
    {
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            await WaitForAsync($"node {node.NodeId} to see {brokers} brokers and a controller", timeout, async () =>
            {
                var controller = await ControllerSeenBy(node);
                return controller >= 0 && MetadataOf(node).Brokers.Count == brokers ? node : null;
            });
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        if (Environment.GetEnvironmentVariable("SAMSA_CLUSTER_KEEP") is "1")
        {
            Console.WriteLine($"cluster data kept in {_root}");
            return;
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Dumps each node's log tail, for a failing test's output.</summary>
    public string Logs(int lines = 40) => string.Join("\n", _nodes.Select(n =>
        $"---- node {n.NodeId} ----\n" + string.Join("\n", n.ReadLog().Split('\n').TakeLast(lines))));
}
