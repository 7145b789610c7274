using Microsoft.Extensions.Logging;
using Samsa.Broker.Network.InterBroker;

namespace Samsa.Broker.Replication;

/// <summary>
/// The replica fetchers of this node (Kafka's ReplicaFetcherManager): per leader, num.replica.fetchers loops, each with
/// its own connection; a partition goes to loop hash(topic, partition) mod that count, so one slow partition shares a
/// loop with a fixed subset only. Loops without partitions are stopped.
/// Thread-safety: called by the replica manager under its apply lock; methods are also safe concurrently.
/// </summary>
internal sealed class ReplicaFetcherManager : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<(int Leader, int Index), ReplicaFetcher> _fetchers = [];
    private readonly Dictionary<Partition, ReplicaFetcher> _assigned = [];
    private readonly BrokerChannelPool _channels;
    private readonly ReplicationOptions _options;
    private readonly int _nodeId;
    private readonly bool _flushOnAck;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private bool _disposed;

    public ReplicaFetcherManager(BrokerChannelPool channels, ReplicationOptions options, int nodeId, bool flushOnAck,
        TimeProvider time, ILoggerFactory loggerFactory)
    {
        _channels = channels;
        _options = options;
        _nodeId = nodeId;
        _flushOnAck = flushOnAck;
        _time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ReplicaFetcherManager>();
    }

    /// <summary>Fetcher loops running now (for tests and metrics).</summary>
    public int FetcherCount
    {
        get { lock (_lock) return _fetchers.Count; }
    }

    /// <summary>Copies <paramref name="partition"/> from <paramref name="leaderId"/> in <paramref name="leaderEpoch"/>, truncating first.</summary>
    public void AddPartition(Partition partition, int leaderId, int leaderEpoch)
    {
        ReplicaFetcher? stale = null;
        lock (_lock)
        {
            if (_disposed) return;
            int index = (int)((uint)HashCode.Combine(partition.Topic, partition.Index) % (uint)Math.Max(1, _options.NumReplicaFetchers));
            if (_assigned.TryGetValue(partition, out var current) && (current.LeaderId != leaderId || current.Index != index))
            {
                current.Remove(partition);
                _assigned.Remove(partition);
                if (current.PartitionCount == 0) stale = Retire(current);
            }
            if (!_fetchers.TryGetValue((leaderId, index), out var fetcher))
            {
                var channel = _channels.CreateDedicated(leaderId, _channels.Options with { ClientId = $"samsa-replica-fetcher-{_nodeId}-{index}" });
                fetcher = new ReplicaFetcher(leaderId, index, channel, _options, _nodeId, _flushOnAck, _time,
                    _loggerFactory.CreateLogger<ReplicaFetcher>());
                _fetchers[(leaderId, index)] = fetcher;
                _logger.LogInformation("Started replica fetcher {Index} for leader {Leader}", index, leaderId);
            }
            fetcher.Add(partition, leaderEpoch);
            _assigned[partition] = fetcher;
        }
        if (stale is not null) _ = stale.DisposeAsync().AsTask();
    }

    /// <summary>Stops copying <paramref name="partition"/>; when this returns no fetcher writes to its log any more.</summary>
    public void RemovePartition(Partition partition)
    {
        ReplicaFetcher? stale = null;
        lock (_lock)
        {
            if (!_assigned.Remove(partition, out var fetcher)) return;
            fetcher.Remove(partition);
            if (fetcher.PartitionCount == 0) stale = Retire(fetcher);
        }
        if (stale is not null) _ = stale.DisposeAsync().AsTask();
    }

    private ReplicaFetcher Retire(ReplicaFetcher fetcher)
    {
        _fetchers.Remove((fetcher.LeaderId, fetcher.Index));
        _logger.LogInformation("Stopped replica fetcher {Index} for leader {Leader}: no partitions left", fetcher.Index, fetcher.LeaderId);
        return fetcher;
    }

    public async ValueTask DisposeAsync()
    {
        List<ReplicaFetcher> fetchers;
        lock (_lock)
        {
            _disposed = true;
            fetchers = [.. _fetchers.Values];
            _fetchers.Clear();
            _assigned.Clear();
        }
        foreach (var f in fetchers) await f.DisposeAsync().ConfigureAwait(false);
    }
}
