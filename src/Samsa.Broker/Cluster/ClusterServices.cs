using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;
using Samsa.Metadata;
using Samsa.Metadata.Quorum;

namespace Samsa.Broker.Cluster;

/// <summary>
/// The cluster side of a node started with <c>controller.quorum.voters</c>: the metadata log (a Raft voter when
/// <c>process.roles</c> contains controller, else an observer pulling from the controllers), the active-controller
/// duties, the controller channel and this broker's heartbeats. Built by BrokerHost; owns and disposes all of them.
/// </summary>
public sealed class ClusterServices : IAsyncDisposable
{
    private readonly BrokerConfig _config;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly RaftMetadataLog? _raft;
    private readonly ObserverMetadataLog? _observer;
    private ActiveController? _active;
    private ControllerChannel? _channel;
    private BrokerLifecycle? _lifecycle;

    private ClusterServices(BrokerConfig config, TimeProvider time, ILoggerFactory loggerFactory, RaftMetadataLog? raft, ObserverMetadataLog? observer)
    {
        _config = config;
        _time = time;
        _loggerFactory = loggerFactory;
        _raft = raft;
        _observer = observer;
    }

    public IMetadataLog Log => (IMetadataLog?)_raft ?? _observer!;

    public ControllerChannel Channel => _channel ?? throw new InvalidOperationException("The controller is not started.");

    public BrokerLifecycle? Lifecycle => _lifecycle;

    public static async Task<ClusterServices> OpenAsync(BrokerConfig config, TimeProvider time, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        if (!config.IsController)
            return new ClusterServices(config, time, loggerFactory, null,
                new ObserverMetadataLog(TimeSpan.FromMilliseconds(200), loggerFactory.CreateLogger<ObserverMetadataLog>()));

        var voters = config.ControllerQuorumVoters.Select(v => new RaftVoter(v.NodeId, new IPEndPoint(Resolve(v.Host), v.Port))).ToList();
        var self = voters.FirstOrDefault(v => v.NodeId == config.NodeId)
            ?? throw new ConfigException($"node.id {config.NodeId} has the controller role but is not in controller.quorum.voters");
        var controllerListener = config.Listeners.FirstOrDefault(l => config.ControllerListenerNames.Contains(l.Name));
        IPEndPoint? bind = controllerListener is null ? null
            : new IPEndPoint(controllerListener.Address ?? (controllerListener.IsWildcard ? IPAddress.Any : Resolve(controllerListener.Host)),
                controllerListener.Port is 0 ? self.EndPoint.Port : controllerListener.Port);
        int election = Convert.ToInt32(config.Get("controller.quorum.election.timeout.ms"), CultureInfo.InvariantCulture);
        var raft = await RaftMetadataLog.StartAsync(new RaftMetadataLogOptions
        {
            NodeId = config.NodeId,
            Voters = voters,
            Directory = Path.Combine(config.MetadataLogDir, "__cluster_metadata-0"),
            BindEndPoint = bind,
            LowerElectionTimeoutMs = Math.Max(400, election / 2),
            UpperElectionTimeoutMs = Math.Max(401, election),
            SnapshotBytes = Convert.ToInt64(config.Get("metadata.log.max.record.bytes.between.snapshots"), CultureInfo.InvariantCulture),
        }, loggerFactory, ct).ConfigureAwait(false);
        return new ClusterServices(config, time, loggerFactory, raft, null);
    }

    private static IPAddress Resolve(string host)
    {
        if (host is "" or "localhost") return IPAddress.Loopback;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses[0];
    }

    /// <summary>Wires the controller: active-controller duties on voters, the channel everywhere.</summary>
    public void StartController(Controller controller)
    {
        if (_raft is not null)
        {
            var settings = new BrokerLivenessSettings(
                TimeSpan.FromMilliseconds(Convert.ToInt32(_config.Get("broker.session.timeout.ms"), CultureInfo.InvariantCulture)),
                Convert.ToBoolean(_config.Get("auto.leader.rebalance.enable"), CultureInfo.InvariantCulture),
                TimeSpan.FromSeconds(Convert.ToInt64(_config.Get("leader.imbalance.check.interval.seconds"), CultureInfo.InvariantCulture)),
                UncleanElection);
            _active = new ActiveController(_raft, controller, settings, _time, _loggerFactory.CreateLogger<ActiveController>());
        }
        var bootstrap = ConfigDefinition.SplitList(_config.GetString("controller.quorum.bootstrap.servers"))
            .Select(ParseHostPort).ToList();
        var secured = Security.Authentication.SecureConnectionFactory.InterBroker(_config, $"samsa-node-{_config.NodeId}");
        var client = new ControllerClient($"samsa-node-{_config.NodeId}", _config.SocketRequestMaxBytes, _loggerFactory.CreateLogger<ControllerClient>())
        {
            Connections = secured is Network.InterBroker.PlaintextConnectionFactory ? null : secured,
        };
        _channel = new ControllerChannel(Log, _raft, _active, client, _config.InterBrokerListenerName, bootstrap, _loggerFactory.CreateLogger<ControllerChannel>());
        _observer?.Start(_channel);
    }

    private bool UncleanElection(string topic) =>
        Log.Image.ConfigsOf(ConfigResourceType.Topic, topic).TryGetValue("unclean.leader.election.enable", out var value)
            ? bool.TryParse(value, out var enabled) && enabled
            : _config.UncleanLeaderElectionEnable;

    private static (string Host, int Port) ParseHostPort(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port))
            throw new ConfigException($"controller.quorum.bootstrap.servers: '{value}' is not host:port");
        return (value[..colon], port);
    }

    /// <summary>Starts heartbeating this broker's registration to the active controller.</summary>
    public void StartLifecycle(RegisterBrokerRecord registration)
    {
        var interval = TimeSpan.FromMilliseconds(Convert.ToInt32(_config.Get("broker.heartbeat.interval.ms"), CultureInfo.InvariantCulture));
        _lifecycle = new BrokerLifecycle(Channel, registration, interval, _loggerFactory.CreateLogger<BrokerLifecycle>());
        _lifecycle.Start();
    }

    /// <summary>Moves leadership away from this node, then hands over the active controller role if it holds it.</summary>
    public async Task ControlledShutdownAsync()
    {
        if (_lifecycle is not null) await _lifecycle.ControlledShutdownAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (_raft is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _raft.ResignAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_lifecycle is not null) await _lifecycle.DisposeAsync().ConfigureAwait(false);
        if (_active is not null) await _active.DisposeAsync().ConfigureAwait(false);
        if (_channel is not null) await _channel.DisposeAsync().ConfigureAwait(false);
        if (_observer is not null) await _observer.DisposeAsync().ConfigureAwait(false);
        if (_raft is not null) await _raft.DisposeAsync().ConfigureAwait(false);
    }
}
