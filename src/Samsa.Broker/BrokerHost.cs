using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Api;
using Samsa.Broker.Cluster;
using Samsa.Broker.Configuration;
using Samsa.Broker.Fetching;
using Samsa.Broker.Handlers;
using Samsa.Broker.Network;
using Samsa.Broker.Network.InterBroker;
using Samsa.Broker.Producers;
using Samsa.Broker.Quotas;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Storage;

namespace Samsa.Broker;

/// <summary>
/// One Samsa node: storage, metadata, replica manager, handlers, and Kestrel serving the Kafka listeners plus the
/// HTTP listener (/metrics, /health). Start with <see cref="StartAsync"/>; dispose to shut down gracefully
/// (stop accepting, drain connections, flush and close every log cleanly).
/// </summary>
public sealed class BrokerHost : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly LogManager _logs;
    private readonly IMetadataLog _metadata;
    private readonly ClusterServices? _cluster;
    private readonly bool _ownsMetadata;
    private readonly ReplicaFetcherManager _fetchers;
    private readonly ReplicaManager _replicas;
    private readonly BrokerChannelPool _interBroker;
    private readonly ILogger _logger;
    private int _disposed;

    private BrokerHost(WebApplication web, LogManager logs, IMetadataLog metadata, ClusterServices? cluster, bool ownsMetadata,
        ReplicaManager replicas, ReplicaFetcherManager fetchers, BrokerChannelPool interBroker,
        IReadOnlyList<IPEndPoint> kafkaEndpoints, Uri? httpEndpoint, NodeInfo node, BrokerMetrics metrics, ILogger logger)
    {
        _cluster = cluster;
        _ownsMetadata = ownsMetadata;
        _fetchers = fetchers;
        _interBroker = interBroker;
        _web = web;
        _logs = logs;
        _metadata = metadata;
        _replicas = replicas;
        BoundEndpoints = kafkaEndpoints;
        HttpEndpoint = httpEndpoint;
        Node = node;
        Metrics = metrics;
        _logger = logger;
    }

    /// <summary>The Kafka listener endpoints actually bound (port 0 resolved), in listener order.</summary>
    public IReadOnlyList<IPEndPoint> BoundEndpoints { get; }

    public Uri? HttpEndpoint { get; }
    public NodeInfo Node { get; }
    public BrokerMetrics Metrics { get; }

    /// <summary>The partitions hosted here (leaders and followers), for tests and tools.</summary>
    internal ReplicaManager Replicas => _replicas;

    /// <summary>Connections to the other nodes on inter.broker.listener.name (forwarding, replica fetchers, markers).</summary>
    internal BrokerChannelPool InterBroker => _interBroker;
    /// <summary>Authentication of each Kafka listener (by listener name), with the sessions of its open connections.</summary>
    internal IReadOnlyDictionary<string, Security.Authentication.ListenerSecurity> ListenerSecurity { get; private init; } =
        new Dictionary<string, Security.Authentication.ListenerSecurity>();

    /// <summary>"host:port" of the first Kafka listener, for clients' bootstrap.servers.</summary>
    public string BootstrapServers => $"{Node.AdvertisedEndpoints[0].Host}:{Node.AdvertisedEndpoints[0].Port}";

    /// <summary>log.cleaner.* broker configs (explicit values, else the definitions' defaults).</summary>
    private static CleanerConfig CleanerConfigOf(BrokerConfig config)
    {
        string Value(string name) => config.Values.TryGetValue(name, out var v) ? v
            : BrokerConfigDefinitions.All.First(d => d.Name == name).Default ?? "";
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return new CleanerConfig
        {
            Enabled = bool.Parse(Value("log.cleaner.enable")),
            Threads = int.Parse(Value("log.cleaner.threads"), invariant),
            DedupeBufferSize = long.Parse(Value("log.cleaner.dedupe.buffer.size"), invariant),
            BackoffMs = long.Parse(Value("log.cleaner.backoff.ms"), invariant),
            IoMaxBytesPerSecond = double.Parse(Value("log.cleaner.io.max.bytes.per.second"), invariant),
        };
    }

    /// <summary>
    /// A metadata log and controller the node uses instead of opening its own (it does not dispose them): the seam for
    /// several in-process nodes sharing one metadata log in tests, and for a replicated metadata quorum.
    /// </summary>
    public sealed record MetadataOverride(IMetadataLog Log, Controller Controller);

    public static async Task<BrokerHost> StartAsync(BrokerConfig config, ILoggerFactory loggerFactory, CancellationToken ct = default,
        MetadataOverride? metadataOverride = null)
    {
        var logger = loggerFactory.CreateLogger<BrokerHost>();
        var time = TimeProvider.System;
        var metrics = new BrokerMetrics();

        foreach (var dir in config.LogDirs) Directory.CreateDirectory(dir);
        // Tests may inject a shared in-process metadata log (MetadataOverride). Otherwise: single node without
        // controller.quorum.voters uses the local file log (no ports, instant start); else the Raft quorum
        // (controllers) or a follower of it (broker-only nodes); see ClusterServices.
        var cluster = metadataOverride is null && config.ControllerQuorumVoters.Count > 0
            ? await ClusterServices.OpenAsync(config, time, loggerFactory, ct).ConfigureAwait(false) : null;
        IMetadataLog metadataLog = metadataOverride?.Log ?? cluster?.Log
            ?? LocalMetadataLog.Open(Path.Combine(config.MetadataLogDir, "__cluster_metadata-0"), loggerFactory.CreateLogger<LocalMetadataLog>());
        var controller = metadataOverride?.Controller ?? new Controller(metadataLog, config.NodeId, loggerFactory.CreateLogger<Controller>());
        cluster?.StartController(controller);
        var flush = config.LogFlushIntervalMessages <= 1
            ? LogFlushPolicy.GroupCommit
            : LogFlushPolicy.Interval(config.LogFlushIntervalMessages, config.LogFlushIntervalMs ?? long.MaxValue);
        var logs = new LogManager(config.LogDirs, flush, time, loggerFactory);
        var interBroker = new BrokerChannelPool(() => metadataLog.Image, config.InterBrokerListenerName,
            Security.Authentication.SecureConnectionFactory.InterBroker(config, $"samsa-broker-{config.NodeId}"),
            new BrokerChannelOptions { ClientId = $"samsa-broker-{config.NodeId}", Time = time }, loggerFactory);
        var topicConfigs = new TopicConfigs(config, metadataLog);
        var replicas = new ReplicaManager(logs, metadataLog, topicConfigs, config.NodeId, flush.Mode == LogFlushMode.GroupCommit,
            loggerFactory.CreateLogger<ReplicaManager>());
        var replication = ReplicationOptions.From(config);
        var fetchers = new ReplicaFetcherManager(interBroker, replication, config.NodeId, flush.Mode == LogFlushMode.GroupCommit, time, loggerFactory);
        replicas.EnableReplication(fetchers, new LocalAlterPartitionChannel(controller), replication, time);
        replicas.Start();
        logs.StartBackgroundTasks(TimeSpan.FromMilliseconds(config.LogRetentionCheckIntervalMs));
        logs.StartCleaner(CleanerConfigOf(config));

        // Kestrel: one endpoint per Kafka listener with the Kafka connection handler, plus the HTTP listener.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var kafkaListenOptions = new List<ListenOptions>();
        ListenOptions? httpListenOptions = null;
        RequestDispatcher? dispatcher = null;
        var kafkaListeners = config.Listeners.Where(l => !config.ControllerListenerNames.Contains(l.Name)).ToList();
        // TLS material and SASL settings are loaded now so a bad key store or JAAS entry fails the start, not a connection.
        var listenerSecurity = kafkaListeners.ToDictionary(l => l.Name, l => new Security.Authentication.ListenerSecurity(
            Security.Authentication.ListenerAuthentication.From(config, l, logger), metadataLog, time,
            loggerFactory.CreateLogger<Security.Authentication.ListenerSecurity>()));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var listener in kafkaListeners)
            {
                var address = listener.Address ?? (listener.Host is "" or "localhost" ? IPAddress.Loopback : ResolveHost(listener.Host));
                kestrel.Listen(address, listener.Port, listen =>
                {
                    var security = listenerSecurity[listener.Name];
                    var limits = new BrokerLimits(config.SocketRequestMaxBytes, listener.Name, TimeSpan.FromMilliseconds(config.ConnectionsMaxIdleMs))
                    {
                        Security = security,
                    };
                    // TLS (SSL, SASL_SSL) terminates in Kestrel before the Kafka handler: plaintext bytes never reach it.
                    if (security.Settings.Tls is { } tls) listen.UseHttps(tls.KestrelOptions());
                    listen.Use(_ => connection =>
                        new KafkaConnectionHandler(dispatcher!, limits, metrics, loggerFactory.CreateLogger<KafkaConnectionHandler>(), ready.Task)
                            .OnConnectedAsync(connection));
                    kafkaListenOptions.Add(listen);
                });
            }
            if (config.HttpListener is { } http)
            {
                var address = http.Host is "localhost" ? IPAddress.Loopback : IPAddress.TryParse(http.Host, out var ip) ? ip : IPAddress.Any;
                kestrel.Listen(address, http.Port, listen => httpListenOptions = listen);
            }
        });
        var web = builder.Build();
        web.MapGet("/health", () => Results.Text("ok\n"));

        // Bind first so port 0 resolves; handlers are wired before the first connection is read because the
        // dispatcher is assigned before StartAsync returns and connections only start after it.
        var bound = new List<IPEndPoint>();
        var advertised = new List<BrokerEndpoint>();
        var node = new NodeInfo(config.NodeId, config.ClusterId, config.Rack, advertised);
        var topicCreator = new TopicCreator(controller, topicConfigs, config, loggerFactory.CreateLogger<TopicCreator>());
        var producerIds = new ProducerIdManager(controller, config.NodeId);
        var fetchSessions = new FetchSessionCache(1000, time);
        var alteration = new ConfigAlteration(controller, topicConfigs);
        var groupCoordinator = new Groups.GroupCoordinator(replicas, metadataLog, topicCreator, config, time, loggerFactory);
        var authorizer = Security.Authorization.Authorizers.Create(config, metadataLog, loggerFactory);
        var quotas = ClientQuotas.Create(config, metadataLog, time);
        var markerWriter = new Transactions.LocalTxnMarkerWriter(replicas, metadataLog, groupCoordinator, config.NodeId, time,
            loggerFactory.CreateLogger<Transactions.LocalTxnMarkerWriter>());
        var markerRouter = new Transactions.TxnMarkerRouter(markerWriter, () => metadataLog.Image, interBroker, config.NodeId,
            loggerFactory.CreateLogger<Transactions.TxnMarkerRouter>());
        var verifier = new Transactions.RemoteTxnVerifier(interBroker, loggerFactory.CreateLogger<Transactions.RemoteTxnVerifier>());
        var transactions = new Transactions.TransactionCoordinator(replicas, metadataLog, topicCreator, config, producerIds, markerRouter, time, loggerFactory)
        {
            RemoteVerifier = verifier.VerifyAsync,
        };
        IApiHandler[] handlers =
        [
            new ProduceHandler(replicas, metadataLog, topicConfigs, metrics, quotas, transactions),
            new FetchHandler(replicas, metadataLog, fetchSessions, metrics, config.FetchMaxBytes, quotas),
            new ListOffsetsHandler(replicas),
            new OffsetForLeaderEpochHandler(replicas),
            new MetadataHandler(metadataLog, node, topicCreator),
            new CreateTopicsHandler(topicCreator, topicConfigs),
            new DeleteTopicsHandler(controller),
            new CreatePartitionsHandler(controller),
            new AlterPartitionReassignmentsHandler(controller),
            new ListPartitionReassignmentsHandler(controller),
            new ElectLeadersHandler(controller),
            new DescribeConfigsHandler(metadataLog, topicConfigs, config, node),
            new AlterConfigsHandler(alteration),
            new IncrementalAlterConfigsHandler(alteration),
            new DescribeClusterHandler(metadataLog, node),
            new DeleteRecordsHandler(replicas),
            new DescribeLogDirsHandler(replicas, config),
            new InitProducerIdHandler(producerIds, transactions),
            new FindCoordinatorHandler(groupCoordinator, metadataLog, node, transactions),
            new JoinGroupHandler(groupCoordinator),
            new SyncGroupHandler(groupCoordinator),
            new HeartbeatHandler(groupCoordinator),
            new LeaveGroupHandler(groupCoordinator),
            new OffsetCommitHandler(groupCoordinator, metadataLog, time),
            new OffsetFetchHandler(groupCoordinator),
            new ListGroupsHandler(groupCoordinator),
            new DescribeGroupsHandler(groupCoordinator),
            new ConsumerGroupHeartbeatHandler(groupCoordinator, metadataLog),
            new ConsumerGroupDescribeHandler(groupCoordinator, metadataLog),
            new DeleteGroupsHandler(groupCoordinator),
            new OffsetDeleteHandler(groupCoordinator),
            new CreateAclsHandler(controller),
            new DescribeAclsHandler(metadataLog),
            new DeleteAclsHandler(controller),
            new DescribeClientQuotasHandler(metadataLog),
            new AlterClientQuotasHandler(controller),
            new SaslHandshakeHandler(),
            new SaslAuthenticateHandler(loggerFactory.CreateLogger<SaslAuthenticateHandler>()),
            new AlterUserScramCredentialsHandler(controller),
            new DescribeUserScramCredentialsHandler(metadataLog),
            new AddPartitionsToTxnHandler(transactions, metadataLog),
            new AddOffsetsToTxnHandler(transactions, groupCoordinator),
            new EndTxnHandler(transactions),
            new TxnOffsetCommitHandler(groupCoordinator, transactions, metadataLog),
            new WriteTxnMarkersHandler(markerWriter),
            new DescribeTransactionsHandler(transactions),
            new ListTransactionsHandler(transactions),
            new DescribeProducersHandler(replicas, metadataLog, config.NodeId),
        ];
        var table = handlers.Select(h => RequestQuotaHandler.Wrap(h, quotas)).ToList();
        if (cluster is not null) table.Add(new EnvelopeHandler(cluster.Channel));
        RequestDispatcher? built = null;
        table.Add(new ApiVersionsHandler(() => built!.SupportedVersions()));
        built = new RequestDispatcher(table, authorizer, metrics, loggerFactory.CreateLogger<RequestDispatcher>());
        dispatcher = built;

        var exporter = new Metrics.MetricsExporter(metrics, replicas, metadataLog, groupCoordinator, config.NodeId, logs.Cleaner);
        web.MapGet("/metrics", () => Results.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        web.Lifetime.ApplicationStopping.Register(groupCoordinator.Dispose);
        web.Lifetime.ApplicationStopping.Register(transactions.Dispose);
        await web.StartAsync(ct).ConfigureAwait(false);

        for (int i = 0; i < kafkaListeners.Count; i++)
        {
            var listener = kafkaListeners[i];
            var endpoint = (IPEndPoint)kafkaListenOptions[i].EndPoint;
            bound.Add(endpoint);
            var adv = config.AdvertisedListeners.FirstOrDefault(a => a.Name == listener.Name);
            string host = adv is not null && adv.Host.Length > 0 && !adv.IsWildcard ? adv.Host
                : listener.IsWildcard || listener.Host.Length == 0 ? Dns.GetHostName() : listener.Host;
            int port = adv is not null && adv.Port != 0 ? adv.Port : endpoint.Port;
            advertised.Add(new BrokerEndpoint(listener.Name, host, port, listener.SecurityProtocol.ToKafkaName()));
        }
        Uri? httpUri = httpListenOptions?.EndPoint is IPEndPoint httpEndpoint
            ? new Uri($"http://{(httpEndpoint.Address.Equals(IPAddress.Any) ? "127.0.0.1" : httpEndpoint.Address.ToString())}:{httpEndpoint.Port}/")
            : null;

        var registration = new RegisterBrokerRecord(config.NodeId, [.. advertised], config.Rack, Guid.NewGuid());
        if (cluster is null) await controller.RegisterBrokerAsync(registration, ct).ConfigureAwait(false);
        else cluster.StartLifecycle(registration);
        ready.TrySetResult();
        logger.LogInformation("Samsa node {NodeId} (cluster {ClusterId}) serving Kafka on {Endpoints}, HTTP on {Http}; data in {LogDirs}",
            config.NodeId, config.ClusterId, string.Join(", ", advertised.Select(a => $"{a.Name}://{a.Host}:{a.Port}")),
            httpUri?.ToString() ?? "(off)", string.Join(", ", config.LogDirs));
        return new BrokerHost(web, logs, metadataLog, cluster, metadataOverride is null && cluster is null, replicas, fetchers, interBroker,
            bound, httpUri, node, metrics, logger) { ListenerSecurity = listenerSecurity };
    }

    private static IPAddress ResolveHost(string host)
    {
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses[0];
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_cluster is not null) await _cluster.ControlledShutdownAsync().ConfigureAwait(false);
        _logger.LogInformation("Shutting down: closing listeners and connections");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _web.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _web.DisposeAsync().ConfigureAwait(false);
        await _fetchers.DisposeAsync().ConfigureAwait(false);
        _replicas.Dispose();
        await _interBroker.DisposeAsync().ConfigureAwait(false);
        _logs.Dispose();
        if (_cluster is not null) await _cluster.DisposeAsync().ConfigureAwait(false);
        else if (_ownsMetadata) await _metadata.DisposeAsync().ConfigureAwait(false);
        _logger.LogInformation("Shutdown complete: logs flushed and closed cleanly");
    }
}
