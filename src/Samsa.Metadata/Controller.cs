using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Metadata;

public sealed record ControllerResult(ErrorCode Error, string? Message = null)
{
    public static readonly ControllerResult Ok = new(ErrorCode.None);
    public bool IsOk => Error == ErrorCode.None;
}

public sealed record CreateTopicSpec(
    string Name, int NumPartitions, short ReplicationFactor,
    IReadOnlyDictionary<int, int[]>? Assignments, IReadOnlyDictionary<string, string?> Configs);

public sealed record CreateTopicResult(ControllerResult Result, TopicImage? Topic);

public enum AlterConfigOp : sbyte
{
    Set = 0,
    Delete = 1,
    Append = 2,
    Subtract = 3,
}

/// <summary>
/// The active controller: validates admin operations against the current image and turns them into metadata
/// record batches. Operations are serialized (one at a time, the controller's logical thread), so validation and
/// the resulting append see a consistent image. Config value validation is the caller's (the broker knows the
/// config definitions); the controller checks structure: names, counts, replica placement.
/// </summary>
public sealed partial class Controller(IMetadataLog log, int nodeId, ILogger logger, Random? random = null)
{
    /// <summary>Size of producer-id blocks handed to brokers, as Kafka's ProducerIdControlManager.</summary>
    public const int ProducerIdBlockSize = 1000;

    /// <summary>
    /// Most partitions one operation may create (Kafka's ReplicationControlManager.MAX_PARTITIONS_PER_BATCH); more is
    /// POLICY_VIOLATION. Without it one request asking for 2^30 partitions holds the controller while it builds them.
    /// </summary>
    public const int MaxPartitionsPerRequest = 10_000;

    private const string ExcessivePartitions = "Excessively large number of partitions per request.";

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Random _random = random ?? new Random();

    public MetadataImage Image => log.Image;

    public async Task<CreateTopicResult> CreateTopicAsync(CreateTopicSpec spec, bool validateOnly, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            var invalid = TopicNames.Validate(spec.Name);
            if (invalid is not null) return new(new(ErrorCode.InvalidTopicException, invalid), null);
            if (image.Topic(spec.Name) is not null)
                return new(new(ErrorCode.TopicAlreadyExists, $"Topic '{spec.Name}' already exists."), null);
            var collision = image.TopicsByName.Keys.FirstOrDefault(n => n != spec.Name && TopicNames.Collide(n, spec.Name));
            if (collision is not null)
                return new(new(ErrorCode.InvalidTopicException,
                    $"Topic '{spec.Name}' collides with existing topic '{collision}' ('.' and '_' are interchangeable in metric names)."), null);

            var brokers = LiveBrokerIds(image);
            int[][] assignment;
            if (spec.Assignments is { Count: > 0 } manual)
            {
                if (manual.Count > MaxPartitionsPerRequest) return new(new(ErrorCode.PolicyViolation, ExcessivePartitions), null);
                var error = ValidateManualAssignment(manual, brokers, out assignment);
                if (error is not null) return new(error, null);
            }
            else
            {
                if (spec.NumPartitions <= 0)
                    return new(new(ErrorCode.InvalidPartitions, "Number of partitions must be larger than 0."), null);
                if (spec.NumPartitions > MaxPartitionsPerRequest)
                    return new(new(ErrorCode.PolicyViolation, ExcessivePartitions), null);
                if (spec.ReplicationFactor <= 0)
                    return new(new(ErrorCode.InvalidReplicationFactor, "Replication factor must be larger than 0."), null);
                if (spec.ReplicationFactor > brokers.Length)
                    return new(new(ErrorCode.InvalidReplicationFactor,
                        $"Unable to replicate the partition {spec.ReplicationFactor} time(s): The target replication factor of {spec.ReplicationFactor} cannot be reached because only {brokers.Length} broker(s) are registered."), null);
                assignment = Place(image, brokers, 0, spec.NumPartitions, spec.ReplicationFactor);
            }

            var topicId = Guid.NewGuid();
            var records = new List<MetadataRecord> { new TopicRecord(spec.Name, topicId) };
            for (int p = 0; p < assignment.Length; p++)
                records.Add(new PartitionRecord(topicId, p, assignment[p], assignment[p], assignment[p][0], 0, 0));
            foreach (var (name, value) in spec.Configs)
                if (value is not null) records.Add(new ConfigRecord(ConfigResourceType.Topic, spec.Name, name, value));

            var preview = image.Apply(records);
            if (!validateOnly)
            {
                await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
                logger.LogInformation("Created topic {Topic} ({TopicId}) with {Partitions} partition(s), replication factor {Rf}",
                    spec.Name, topicId, assignment.Length, assignment[0].Length);
            }
            return new(ControllerResult.Ok, preview.Topic(spec.Name));
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<ControllerResult> DeleteTopicAsync(Guid topicId, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            if (!image.TopicsById.TryGetValue(topicId, out var topic))
                return new(ErrorCode.UnknownTopicId);
            await log.AppendAsync([new RemoveTopicRecord(topicId)], image.Offset, ct).ConfigureAwait(false);
            logger.LogInformation("Deleted topic {Topic} ({TopicId})", topic.Name, topicId);
            return ControllerResult.Ok;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<ControllerResult> CreatePartitionsAsync(
        string topicName, int newCount, IReadOnlyList<int[]>? assignments, bool validateOnly, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            var topic = image.Topic(topicName);
            if (topic is null) return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{topicName}' does not exist.");
            int current = topic.Partitions.Length;
            if (newCount < current)
                return new(ErrorCode.InvalidPartitions, $"Topic currently has {current} partitions, which is higher than the requested {newCount}.");
            if (newCount == current)
                return new(ErrorCode.InvalidPartitions, $"Topic already has {current} partitions.");
            if (newCount - current > MaxPartitionsPerRequest)
                return new(ErrorCode.PolicyViolation, ExcessivePartitions);
            var brokers = LiveBrokerIds(image);
            int rf = topic.Partitions[0].TargetReplicas.Length;
            int[][] placement;
            if (assignments is { Count: > 0 })
            {
                if (assignments.Count != newCount - current)
                    return new(ErrorCode.InvalidReplicaAssignment,
                        $"Increasing the number of partitions by {newCount - current} but {assignments.Count} assignments provided.");
                foreach (var a in assignments)
                    if (a.Length != rf || a.Distinct().Count() != a.Length || a.Any(b => !brokers.Contains(b)))
                        return new(ErrorCode.InvalidReplicaAssignment, "Invalid replica assignment " + string.Join(",", a));
                placement = [.. assignments];
            }
            else
            {
                if (rf > brokers.Length) return new(ErrorCode.InvalidReplicationFactor, "Not enough brokers for the topic's replication factor.");
                placement = Place(image, brokers, current, newCount - current, rf);
            }
            var records = new List<MetadataRecord>();
            for (int i = 0; i < placement.Length; i++)
                records.Add(new PartitionRecord(topic.TopicId, current + i, placement[i], placement[i], placement[i][0], 0, 0));
            if (!validateOnly)
            {
                await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
                logger.LogInformation("Topic {Topic}: partitions {Old} -> {New}", topicName, current, newCount);
            }
            return ControllerResult.Ok;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Applies config changes to one resource. With <paramref name="replaceAll"/> (legacy AlterConfigs) every
    /// existing dynamic config not in <paramref name="changes"/> is removed. Only SET and DELETE arrive here: the caller
    /// resolves APPEND/SUBTRACT against defaults and validates the merged result before anything is persisted.
    /// </summary>
    public async Task<ControllerResult> AlterConfigsAsync(
        ConfigResourceType type, string resourceName, IReadOnlyList<(string Name, AlterConfigOp Op, string? Value)> changes,
        bool replaceAll, bool validateOnly, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            if (type == ConfigResourceType.Topic && image.Topic(resourceName) is null)
                return new(ErrorCode.UnknownTopicOrPartition, $"Topic '{resourceName}' does not exist.");
            var current = image.ConfigsOf(type, resourceName);
            var records = new List<MetadataRecord>();
            if (replaceAll)
                foreach (var name in current.Keys.Where(k => changes.All(c => c.Name != k)))
                    records.Add(new ConfigRecord(type, resourceName, name, null));
            foreach (var (name, op, value) in changes)
            {
                string? newValue = op switch
                {
                    AlterConfigOp.Set => value,
                    AlterConfigOp.Delete => null,
                    _ => throw new ArgumentOutOfRangeException(nameof(changes)),
                };
                records.Add(new ConfigRecord(type, resourceName, name, newValue));
            }
            if (!validateOnly && records.Count > 0)
            {
                await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
                logger.LogInformation("Altered configs of {Type} {Resource}: {Changes}", type, resourceName,
                    string.Join(", ", changes.Select(c => $"{c.Op} {c.Name}")));
            }
            return ControllerResult.Ok;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Reserves the next block of producer ids for <paramref name="brokerId"/>; blocks never repeat.</summary>
    public async Task<(long First, int Size)> AllocateProducerIdsAsync(int brokerId, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            long first = image.NextProducerId;
            await log.AppendAsync([new ProducerIdsRecord(brokerId, first, ProducerIdBlockSize)], image.Offset, ct).ConfigureAwait(false);
            return (first, ProducerIdBlockSize);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task RegisterBrokerAsync(RegisterBrokerRecord registration, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            var existing = image.Brokers.GetValueOrDefault(registration.BrokerId);
            if (existing is not null && existing.Endpoints.SequenceEqual(registration.Endpoints) && existing.Rack == registration.Rack
                && existing.Fenced == registration.Fenced)
                return;
            await log.AppendAsync([registration], image.Offset, ct).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private int[] LiveBrokerIds(MetadataImage image)
    {
        var ids = image.Brokers.Values.Where(b => b.IsLive).Select(b => b.BrokerId).OrderBy(b => b).ToArray();
        return ids.Length > 0 ? ids : [nodeId];
    }

    private static ControllerResult? ValidateManualAssignment(IReadOnlyDictionary<int, int[]> manual, int[] brokers, out int[][] assignment)
    {
        assignment = [];
        var sorted = manual.OrderBy(kv => kv.Key).ToArray();
        for (int i = 0; i < sorted.Length; i++)
            if (sorted[i].Key != i)
                return new(ErrorCode.InvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence.");
        int rf = sorted[0].Value.Length;
        foreach (var (p, replicas) in sorted)
        {
            if (replicas.Length == 0 || replicas.Length != rf)
                return new(ErrorCode.InvalidReplicaAssignment, $"All partitions should have the same number of replicas (partition {p}).");
            if (replicas.Distinct().Count() != replicas.Length)
                return new(ErrorCode.InvalidReplicaAssignment, $"Duplicate brokers in the assignment of partition {p}.");
            if (replicas.Any(b => !brokers.Contains(b)))
                return new(ErrorCode.InvalidReplicaAssignment, $"Unknown broker in the assignment of partition {p}.");
        }
        assignment = sorted.Select(kv => kv.Value).ToArray();
        return null;
    }
}

public static class TopicNames
{
    public const int MaxLength = 249;

    /// <summary>Returns why <paramref name="name"/> is not a legal topic name, or null when it is.</summary>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "Topic name is illegal, it can't be empty.";
        if (name is "." or "..") return "Topic name cannot be \".\" or \"..\".";
        if (name.Length > MaxLength) return $"Topic name is illegal, it can't be longer than {MaxLength} characters, topic name: {name}";
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                return $"Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
        return null;
    }

    public static bool Collide(string a, string b) => a.Replace('.', '_') == b.Replace('.', '_');
}
