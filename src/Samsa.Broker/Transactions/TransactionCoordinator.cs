using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;
using Samsa.Broker.Groups;
using Samsa.Broker.Producers;
using Samsa.Broker.Replication;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Transactions;

/// <summary>
/// The node's transaction coordinator, shaped like the <see cref="GroupCoordinator"/>: __transaction_state is created on
/// first need (transaction.state.log.num.partitions, compacted); a transactional id belongs to the partition Kafka's hash
/// picks (<see cref="CoordinatorPartitioner"/>), and its coordinator is that partition's leader, which runs one
/// <see cref="TransactionCoordinatorShard"/> per partition it leads over a <see cref="PartitionCoordinatorLog"/> (loaded by
/// replay when leadership arrives, closed when it moves). Producer ids come from the controller's blocks
/// (<see cref="ProducerIdManager"/>), so they never repeat across restarts or nodes. Markers go through an
/// <see cref="ITxnMarkerWriter"/>, so nothing here assumes the data partitions are local.
/// </summary>
public sealed class TransactionCoordinator : IDisposable
{
    public const string TransactionStateTopic = "__transaction_state";

    private readonly ReplicaManager _replicas;
    private readonly IMetadataLog _metadata;
    private readonly TopicCreator _topics;
    private readonly BrokerConfig _config;
    private readonly ProducerIdManager _producerIds;
    private readonly ITxnMarkerWriter _markers;
    private readonly TransactionCoordinatorConfig _txnConfig;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, TransactionCoordinatorShard> _shards = new();
    private readonly Lock _reconcileLock = new();
    private readonly SemaphoreSlim _createLock = new(1, 1);
    private bool _disposed;

    public TransactionCoordinator(ReplicaManager replicas, IMetadataLog metadata, TopicCreator topics, BrokerConfig config,
        ProducerIdManager producerIds, ITxnMarkerWriter markers, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _replicas = replicas;
        _metadata = metadata;
        _topics = topics;
        _config = config;
        _producerIds = producerIds;
        _markers = markers;
        _txnConfig = ConfigFrom(config);
        _time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<TransactionCoordinator>();
        _metadata.Applied += OnMetadataApplied;
        Reconcile(_metadata.Image);
    }

    public int NodeId => _config.NodeId;

    public IEnumerable<TransactionCoordinatorShard> Shards => _shards.Values;

    public static TransactionCoordinatorConfig ConfigFrom(BrokerConfig config)
    {
        long Long(string name) => Convert.ToInt64(config.Get(name), CultureInfo.InvariantCulture);
        return new TransactionCoordinatorConfig(
            config.TransactionMaxTimeoutMs,
            Long("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
            Long("transactional.id.expiration.ms"),
            Long("transaction.remove.expired.transaction.cleanup.interval.ms"));
    }

    /// <summary>Creates __transaction_state if missing. False if it could not be created.</summary>
    public async Task<bool> EnsureTopicAsync(CancellationToken ct)
    {
        if (_metadata.Image.Topic(TransactionStateTopic) is not null) return true;
        await _createLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_metadata.Image.Topic(TransactionStateTopic) is not null) return true;
            short replicationFactor = Topics.InternalTopics.ReplicationFactor(_config.TransactionStateLogReplicationFactor, _metadata.Image,
                _config.ControllerQuorumVoters.Count);
            var configs = new Dictionary<string, string?>
            {
                ["cleanup.policy"] = "compact",
                ["segment.bytes"] = Convert.ToString(_config.Get("transaction.state.log.segment.bytes"), CultureInfo.InvariantCulture),
                ["min.insync.replicas"] = Topics.InternalTopics.MinInSyncReplicas(_config.TransactionStateLogMinIsr, replicationFactor).ToString(CultureInfo.InvariantCulture),
                ["compression.type"] = "producer",
            };
            var result = await _topics.CreateAsync(TransactionStateTopic, _config.TransactionStateLogNumPartitions,
                replicationFactor, null, configs, validateOnly: false, ct).ConfigureAwait(false);
            if (!result.Result.IsOk && result.Result.Error != ErrorCode.TopicAlreadyExists)
            {
                _logger.LogWarning("Creating {Topic} failed: {Error} {Message}", TransactionStateTopic, result.Result.Error, result.Result.Message);
                return false;
            }
            _logger.LogInformation("Created {Topic} with {Partitions} partitions", TransactionStateTopic, _config.TransactionStateLogNumPartitions);
            return _metadata.Image.Topic(TransactionStateTopic) is not null;
        }
        finally
        {
            _createLock.Release();
        }
    }

    /// <summary>The node leading the transactional id's partition (its coordinator), or -1 when unknown.</summary>
    public int CoordinatorNodeFor(string transactionalId)
    {
        var topic = _metadata.Image.Topic(TransactionStateTopic);
        if (topic is null) return -1;
        return topic.Partitions[CoordinatorPartitioner.PartitionFor(transactionalId, topic.Partitions.Length)].Leader;
    }

    /// <summary>The shard owning the transactional id, or COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR.</summary>
    public (TransactionCoordinatorShard? Shard, ErrorCode Error) ShardFor(string transactionalId)
    {
        var topic = _metadata.Image.Topic(TransactionStateTopic);
        if (topic is null) return (null, ErrorCode.CoordinatorNotAvailable);
        int partition = CoordinatorPartitioner.PartitionFor(transactionalId, topic.Partitions.Length);
        if (_shards.TryGetValue(partition, out var shard)) return (shard, ErrorCode.None);
        int leader = topic.Partitions[partition].Leader;
        return (null, leader >= 0 && leader != NodeId ? ErrorCode.NotCoordinator : ErrorCode.CoordinatorNotAvailable);
    }

    /// <summary>For a transactional request: creates the topic if needed, then finds the shard.</summary>
    public async Task<(TransactionCoordinatorShard? Shard, ErrorCode Error)> ShardForAsync(string transactionalId, CancellationToken ct)
    {
        if (_metadata.Image.Topic(TransactionStateTopic) is null && !await EnsureTopicAsync(ct).ConfigureAwait(false))
            return (null, ErrorCode.CoordinatorNotAvailable);
        return ShardFor(transactionalId);
    }

    /// <summary>
    /// Asks another node's coordinator whether a partition is in a transaction (AddPartitionsToTxn v4 verify_only over the
    /// inter-broker client): (coordinator node, transactional id, producer id, epoch, partition) → its answer.
    /// </summary>
    public Func<int, string, long, short, TxnPartition, CancellationToken, Task<ErrorCode>>? RemoteVerifier { get; init; }

    /// <summary>
    /// KIP-890 part 1 for a transactional produce or TxnOffsetCommit: NONE when the partition was added to the producer's
    /// open transaction, asked of this node's shard or, when another node coordinates the id, of that node
    /// (<see cref="RemoteVerifier"/>; without one the write is let through).
    /// </summary>
    public async ValueTask<ErrorCode> VerifyTransactionalProduceAsync(string transactionalId, long producerId, short epoch, string topic,
        int partition, CancellationToken ct)
    {
        var (shard, error) = ShardFor(transactionalId);
        if (shard is not null) return shard.VerifyPartition(transactionalId, producerId, epoch, new TxnPartition(topic, partition));
        if (error != ErrorCode.NotCoordinator) return error;
        int coordinator = CoordinatorNodeFor(transactionalId);
        if (RemoteVerifier is null || coordinator < 0) return RemoteVerifier is null ? ErrorCode.None : ErrorCode.CoordinatorNotAvailable;
        return await RemoteVerifier(coordinator, transactionalId, producerId, epoch, new TxnPartition(topic, partition), ct).ConfigureAwait(false);
    }

    private void OnMetadataApplied(MetadataImage image, IReadOnlyList<MetadataRecord> records) => Reconcile(image);

    private void Reconcile(MetadataImage image)
    {
        lock (_reconcileLock)
        {
            if (_disposed) return;
            var topic = image.Topic(TransactionStateTopic);
            var led = new Dictionary<int, int>();
            if (topic is not null)
                foreach (var p in topic.Partitions)
                    if (p.Leader == NodeId && _replicas.Get(TransactionStateTopic, p.PartitionId) is not null)
                        led[p.PartitionId] = p.LeaderEpoch;
            foreach (var (index, shard) in _shards)
                if ((!led.TryGetValue(index, out int epoch) || epoch != shard.CoordinatorEpoch) && _shards.TryRemove(index, out _))
                {
                    shard.Close();
                    _logger.LogInformation("Unloaded transaction coordinator for {Topic}-{Partition}", TransactionStateTopic, index);
                }
            foreach (var (index, leaderEpoch) in led)
            {
                if (_shards.ContainsKey(index)) continue;
                var partition = _replicas.Get(TransactionStateTopic, index)!;
                var shard = new TransactionCoordinatorShard(index, leaderEpoch, new PartitionCoordinatorLog(partition, _replicas.FlushOnAck),
                    _markers, ct => _producerIds.NextAsync(ct), _txnConfig, _time, _loggerFactory.CreateLogger<TransactionCoordinatorShard>());
                _shards[index] = shard;
                _ = Task.Run(() =>
                {
                    try
                    {
                        shard.Load();
                    }
                    catch (Exception e)
                    {
                        _logger.LogError(e, "Loading transaction coordinator for {Topic}-{Partition} failed", TransactionStateTopic, index);
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
