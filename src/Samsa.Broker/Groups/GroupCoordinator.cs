using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;
using Samsa.Broker.Replication;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

/// <summary>
/// The node's group coordinator: creates __consumer_offsets on first need, runs one <see cref="GroupCoordinatorShard"/>
/// per partition this node leads (loading it by replay when the partition appears, closing it when leadership
/// moves), and routes a group id to its shard with Kafka's hash. Handlers of both group protocols go through here.
/// </summary>
public sealed class GroupCoordinator : IDisposable
{
    public const string OffsetsTopic = "__consumer_offsets";

    private readonly ReplicaManager _replicas;
    private readonly IMetadataLog _metadata;
    private readonly TopicCreator _topics;
    private readonly BrokerConfig _config;
    private readonly GroupCoordinatorConfig _groupConfig;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, GroupCoordinatorShard> _shards = new();
    private readonly object _reconcileLock = new();
    private readonly SemaphoreSlim _createLock = new(1, 1);
    private bool _disposed;

    public GroupCoordinator(ReplicaManager replicas, IMetadataLog metadata, TopicCreator topics, BrokerConfig config,
        TimeProvider time, ILoggerFactory loggerFactory)
    {
        _replicas = replicas;
        _metadata = metadata;
        _topics = topics;
        _config = config;
        _groupConfig = GroupCoordinatorConfig.From(config);
        _time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<GroupCoordinator>();
        _metadata.Applied += OnMetadataApplied;
        Reconcile(_metadata.Image);
    }

    public int NodeId => _config.NodeId;

    public IEnumerable<GroupCoordinatorShard> Shards => _shards.Values;

    /// <summary>Creates __consumer_offsets if missing (offsets.topic.num.partitions, compacted). False if it could not be created.</summary>
    public async Task<bool> EnsureOffsetsTopicAsync(CancellationToken ct)
    {
        if (_metadata.Image.Topic(OffsetsTopic) is not null) return true;
        await _createLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_metadata.Image.Topic(OffsetsTopic) is not null) return true;
            var configs = new Dictionary<string, string?>
            {
                ["cleanup.policy"] = "compact",
                ["segment.bytes"] = Convert.ToString(_config.Get("offsets.topic.segment.bytes"), System.Globalization.CultureInfo.InvariantCulture),
                ["compression.type"] = "producer",
            };
            var result = await _topics.CreateAsync(OffsetsTopic, _config.OffsetsTopicNumPartitions, Topics.InternalTopics.ReplicationFactor(_config.OffsetsTopicReplicationFactor, _metadata.Image, _config.ControllerQuorumVoters.Count),
                null, configs, validateOnly: false, ct).ConfigureAwait(false);
            if (!result.Result.IsOk && result.Result.Error != ErrorCode.TopicAlreadyExists)
            {
                _logger.LogWarning("Creating {Topic} failed: {Error} {Message}", OffsetsTopic, result.Result.Error, result.Result.Message);
                return false;
            }
            _logger.LogInformation("Created {Topic} with {Partitions} partitions", OffsetsTopic, _config.OffsetsTopicNumPartitions);
            return _metadata.Image.Topic(OffsetsTopic) is not null;
        }
        finally
        {
            _createLock.Release();
        }
    }

    /// <summary>The __consumer_offsets partition of a group, or -1 while the topic does not exist.</summary>
    public int PartitionFor(string groupId)
    {
        var topic = _metadata.Image.Topic(OffsetsTopic);
        return topic is null ? -1 : CoordinatorPartitioner.PartitionFor(groupId, topic.Partitions.Length);
    }

    /// <summary>The node leading the group's partition (the coordinator), or -1 when unknown.</summary>
    public int CoordinatorNodeFor(string groupId)
    {
        var topic = _metadata.Image.Topic(OffsetsTopic);
        if (topic is null) return -1;
        return topic.Partitions[CoordinatorPartitioner.PartitionFor(groupId, topic.Partitions.Length)].Leader;
    }

    /// <summary>The shard owning the group, or the error to answer: COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR.</summary>
    public (GroupCoordinatorShard? Shard, ErrorCode Error) ShardFor(string groupId)
    {
        int partition = PartitionFor(groupId);
        if (partition < 0) return (null, ErrorCode.CoordinatorNotAvailable);
        if (_shards.TryGetValue(partition, out var shard)) return (shard, ErrorCode.None);
        int leader = CoordinatorNodeFor(groupId);
        return (null, leader >= 0 && leader != NodeId ? ErrorCode.NotCoordinator : ErrorCode.CoordinatorNotAvailable);
    }

    /// <summary>For a group request: creates the topic if needed, then finds the shard.</summary>
    public async Task<(GroupCoordinatorShard? Shard, ErrorCode Error)> ShardForAsync(string groupId, CancellationToken ct)
    {
        if (_metadata.Image.Topic(OffsetsTopic) is null && !await EnsureOffsetsTopicAsync(ct).ConfigureAwait(false))
            return (null, ErrorCode.CoordinatorNotAvailable);
        return ShardFor(groupId);
    }

    /// <summary>
    /// A transaction marker was appended to <c>__consumer_offsets-<paramref name="partition"/></c>: the shard makes the
    /// producer's pending transactional offsets committed (COMMIT) or drops them (ABORT).
    /// </summary>
    public void OnTransactionMarker(int partition, long producerId, bool commit)
    {
        if (_shards.TryGetValue(partition, out var shard)) shard.CompleteTransaction(producerId, commit);
    }

    private void OnMetadataApplied(MetadataImage image, IReadOnlyList<MetadataRecord> records) => Reconcile(image);

    private void Reconcile(MetadataImage image)
    {
        lock (_reconcileLock)
        {
            if (_disposed) return;
            var topic = image.Topic(OffsetsTopic);
            var led = new HashSet<int>();
            if (topic is not null)
                foreach (var p in topic.Partitions)
                    if (p.Leader == NodeId && _replicas.Get(OffsetsTopic, p.PartitionId) is not null)
                        led.Add(p.PartitionId);
            foreach (var (index, shard) in _shards)
                if (!led.Contains(index) && _shards.TryRemove(index, out _))
                {
                    shard.Close();
                    _logger.LogInformation("Unloaded group coordinator for {Topic}-{Partition}", OffsetsTopic, index);
                }
            foreach (int index in led)
            {
                if (_shards.ContainsKey(index)) continue;
                var partition = _replicas.Get(OffsetsTopic, index)!;
                var shard = new GroupCoordinatorShard(index, new PartitionCoordinatorLog(partition, _replicas.FlushOnAck), _groupConfig, _time,
                    _loggerFactory.CreateLogger<GroupCoordinatorShard>());
                _shards[index] = shard;
                _ = Task.Run(() =>
                {
                    try
                    {
                        shard.Load();
                    }
                    catch (Exception e)
                    {
                        _logger.LogError(e, "Loading group coordinator for {Topic}-{Partition} failed", OffsetsTopic, index);
                    }
                });
            }
        }
    }

    public void Dispose()
    {
        lock (_reconcileLock)
        {
            _disposed = true;
            _metadata.Applied -= OnMetadataApplied;
            foreach (var shard in _shards.Values) shard.Close();
            _shards.Clear();
        }
    }
}
