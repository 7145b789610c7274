using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Storage;

namespace Samsa.Broker.Replication;

/// <summary>
/// Hosts the partitions whose replicas are on this node, following the metadata image: it opens logs for new
/// partitions, applies topic config changes, deletes logs of removed topics (Kafka's metadata publisher), and gives
/// each partition its role on every image change — leader (new epoch, followers' progress reset, ISR tracking) or
/// follower (clients refused, the replica fetcher truncates and copies from the leader). As leader it keeps the ISR
/// honest: followers that fall behind for replica.lag.time.max.ms are removed and followers that catch up are added,
/// both through AlterPartition to the controller (see ReplicaManager.Isr.cs).
/// Produce and Fetch go through it; it knows nothing of the wire.
/// </summary>
public sealed partial class ReplicaManager : IDisposable
{
    private readonly ConcurrentDictionary<(string Topic, int Partition), Partition> _partitions = new();
    private readonly LogManager _logs;
    private readonly IMetadataLog _metadata;
    private readonly TopicConfigs _configs;
    private readonly int _nodeId;
    private readonly bool _flushOnAck;
    private readonly ILogger _logger;
    private readonly object _applyLock = new();

    public ReplicaManager(LogManager logs, IMetadataLog metadata, TopicConfigs configs, int nodeId, bool flushOnAck, ILogger<ReplicaManager> logger)
    {
        _logs = logs;
        _metadata = metadata;
        _configs = configs;
        _nodeId = nodeId;
        _flushOnAck = flushOnAck;
        _logger = logger;
        metadata.Applied += OnMetadataApplied;
    }

    public int NodeId => _nodeId;

    public bool FlushOnAck => _flushOnAck;

    public IEnumerable<Partition> Partitions => _partitions.Values;

    public Partition? Get(string topic, int partition) => _partitions.GetValueOrDefault((topic, partition));

    /// <summary>Opens every partition in the current image and removes logs of topics that no longer exist.</summary>
    public void Start()
    {
        lock (_applyLock)
        {
            Reconcile(_metadata.Image);
            var live = _metadata.Image.TopicsByName;
            foreach (var (topic, partition) in _logs.AllPartitions().ToList())
                if (!live.TryGetValue(topic, out var t) || partition >= t.Partitions.Length)
                {
                    _logger.LogInformation("Deleting log of {Topic}-{Partition}: the topic no longer exists", topic, partition);
                    _logs.Delete(topic, partition);
                }
        }
    }

    private void OnMetadataApplied(MetadataImage image, IReadOnlyList<MetadataRecord> records)
    {
        lock (_applyLock)
        {
            Reconcile(image);
            foreach (var topic in records.OfType<ConfigRecord>()
                         .Where(r => r.ResourceType == ConfigResourceType.Topic).Select(r => r.ResourceName).Distinct())
            {
                try
                {
                    var config = _configs.Effective(topic);
                    foreach (var p in _partitions.Values.Where(p => p.Topic == topic)) p.Log.UpdateConfig(config);
                }
                catch (ArgumentException e)
                {
                    _logger.LogError(e, "Topic {Topic}: the new configuration could not be applied; keeping the previous one", topic);
                }
            }
        }
    }

    private void Reconcile(MetadataImage image)
    {
        foreach (var topic in image.TopicsByName.Values)
        {
            LogConfig? config = null;
            foreach (var p in topic.Partitions)
            {
                if (!p.Replicas.Contains(_nodeId)) continue;
                if (_partitions.TryGetValue((topic.Name, p.PartitionId), out var existing))
                {
                    if (existing.TopicId == topic.TopicId)
                    {
                        ApplyRole(existing, p);
                        continue;
                    }
                    RemovePartition(existing); // same name, new topic id: the old topic was deleted
                }
                try
                {
                    config ??= _configs.Effective(topic.Name);
                    var log = _logs.GetOrCreate(topic.Name, p.PartitionId, config, topic.TopicId);
                    var partition = new Partition(topic.Name, topic.TopicId, p.PartitionId, log, _flushOnAck) { LocalBrokerId = _nodeId };
                    _partitions[(topic.Name, p.PartitionId)] = partition;
                    ApplyRole(partition, p);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    // One partition that cannot be opened (disk error, file descriptors exhausted, a bad config) stays
                    // offline — clients get UNKNOWN_TOPIC_OR_PARTITION — and must not stop the others or the node.
                    _logger.LogError(e, "Partition {Topic}-{Partition} is offline: its log could not be opened", topic.Name, p.PartitionId);
                }
            }
        }
        foreach (var partition in _partitions.Values.ToList())
        {
            var topic = image.TopicsByName.GetValueOrDefault(partition.Topic);
            if (topic is null || topic.TopicId != partition.TopicId || partition.Index >= topic.Partitions.Length
                || !topic.Partitions[partition.Index].Replicas.Contains(_nodeId))
                RemovePartition(partition);
        }
    }

    private void RemovePartition(Partition partition)
    {
        if (!_partitions.TryRemove(((partition.Topic, partition.Index)), out _)) return;
        _fetchers?.RemovePartition(partition);
        partition.WakeWaiters();
        try
        {
            _logs.Delete(partition.Topic, partition.Index);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(e, "Deleting the log of {Topic}-{Partition} failed; its directory may need removing by hand", partition.Topic, partition.Index);
            return;
        }
        _logger.LogInformation("Removed partition {Topic}-{Partition}", partition.Topic, partition.Index);
    }

    public void Dispose()
    {
        _metadata.Applied -= OnMetadataApplied;
        StopIsrChecks();
    }
}
