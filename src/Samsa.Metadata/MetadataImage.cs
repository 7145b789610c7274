using System.Collections.Immutable;

namespace Samsa.Metadata;

public sealed record PartitionImage(
    int PartitionId, ImmutableArray<int> Replicas, ImmutableArray<int> Isr, int Leader, int LeaderEpoch, int PartitionEpoch)
{
    /// <summary>Replicas an ongoing reassignment adds (already in <see cref="Replicas"/>, catching up); empty when none.</summary>
    public ImmutableArray<int> AddingReplicas { get; init; } = [];

    /// <summary>Replicas an ongoing reassignment drops once every adding replica is in the ISR; empty when none.</summary>
    public ImmutableArray<int> RemovingReplicas { get; init; } = [];

    public bool IsReassigning => !AddingReplicas.IsEmpty || !RemovingReplicas.IsEmpty;

    /// <summary>The replica set the ongoing reassignment aims at: the replicas without the removing ones.</summary>
    public ImmutableArray<int> TargetReplicas => RemovingReplicas.IsEmpty ? Replicas : [.. Replicas.Where(r => !RemovingReplicas.Contains(r))];
}

public sealed record TopicImage(string Name, Guid TopicId, ImmutableArray<PartitionImage> Partitions)
{
    public bool IsInternal => Name.StartsWith("__", StringComparison.Ordinal);
}

/// <summary>A registered broker. Fenced brokers are not live: they lead nothing, are in no ISR, and are hidden from clients.</summary>
public sealed record BrokerImage(int BrokerId, ImmutableArray<BrokerEndpoint> Endpoints, string? Rack, bool Fenced = false, bool InControlledShutdown = false)
{
    /// <summary>The process incarnation that registered; a new one (a restart) registers again, fenced.</summary>
    public Guid Incarnation { get; init; }

    public bool IsLive => !Fenced && !InControlledShutdown;
}

/// <summary>
/// An immutable snapshot of cluster metadata at <see cref="Offset"/> (number of applied batches).
/// Readers take the current image and use it without locks; the controller publishes a new image per batch.
/// </summary>
public sealed partial record MetadataImage(
    long Offset,
    ImmutableDictionary<string, TopicImage> TopicsByName,
    ImmutableDictionary<Guid, TopicImage> TopicsById,
    ImmutableDictionary<(ConfigResourceType Type, string Name), ImmutableDictionary<string, string>> Configs,
    ImmutableDictionary<int, BrokerImage> Brokers,
    long NextProducerId)
{
    public static readonly MetadataImage Empty = new(
        0,
        ImmutableDictionary<string, TopicImage>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<Guid, TopicImage>.Empty,
        ImmutableDictionary<(ConfigResourceType, string), ImmutableDictionary<string, string>>.Empty,
        ImmutableDictionary<int, BrokerImage>.Empty,
        0);

    /// <summary>SCRAM credentials by user and mechanism (salted keys only, never a password); see ScramCredentials.cs.</summary>
    public ImmutableDictionary<(string User, ScramMechanism Mechanism), ScramCredentialImage> ScramCredentials { get; init; } =
        ImmutableDictionary<(string, ScramMechanism), ScramCredentialImage>.Empty;

    public TopicImage? Topic(string name) => TopicsByName.GetValueOrDefault(name);

    public ImmutableDictionary<string, string> ConfigsOf(ConfigResourceType type, string name) =>
        Configs.GetValueOrDefault((type, name)) ?? ImmutableDictionary<string, string>.Empty;

    public MetadataImage Apply(IEnumerable<MetadataRecord> records)
    {
        var image = this;
        foreach (var record in records) image = image.Apply(record);
        return image with { Offset = Offset + 1 };
    }

    private MetadataImage Apply(MetadataRecord record) => record switch
    {
        TopicRecord t => PutTopic(new TopicImage(t.Name, t.TopicId, [])),
        PartitionRecord p => ApplyPartition(p),
        PartitionChangeRecord c => ApplyPartitionChange(c),
        RemoveTopicRecord r => RemoveTopic(r.TopicId),
        ConfigRecord c => ApplyConfig(c),
        ProducerIdsRecord p => this with { NextProducerId = Math.Max(NextProducerId, p.FirstProducerId + p.BlockSize) },
        RegisterBrokerRecord b => this with { Brokers = Brokers.SetItem(b.BrokerId, new BrokerImage(b.BrokerId, [.. b.Endpoints], b.Rack, b.Fenced) { Incarnation = b.Incarnation }) },
        BrokerRegistrationChangeRecord c => Brokers.TryGetValue(c.BrokerId, out var broker)
            ? this with
            {
                Brokers = Brokers.SetItem(c.BrokerId, broker with
                {
                    Fenced = c.Fenced ?? broker.Fenced,
                    InControlledShutdown = c.InControlledShutdown ?? broker.InControlledShutdown,
                }),
            }
            : this,
        AccessControlEntryRecord a => this with { Acls = Acls.SetItem(a.Id, a) },
        RemoveAccessControlEntryRecord r => this with { Acls = Acls.Remove(r.Id) },
        ClientQuotaRecord q => ApplyClientQuota(q),
        UserScramCredentialRecord u => this with { ScramCredentials = ScramCredentials.SetItem((u.Name, u.Mechanism), ScramCredentialImage.Of(u)) },
        RemoveUserScramCredentialRecord r => this with { ScramCredentials = ScramCredentials.Remove((r.Name, r.Mechanism)) },
        _ => throw new InvalidOperationException($"Unknown metadata record {record.GetType().Name}"),
    };

    private MetadataImage PutTopic(TopicImage topic) => this with
    {
        TopicsByName = TopicsByName.SetItem(topic.Name, topic),
        TopicsById = TopicsById.SetItem(topic.TopicId, topic),
    };

    private MetadataImage ApplyPartition(PartitionRecord p)
    {
        var topic = TopicsById[p.TopicId];
        var partition = new PartitionImage(p.PartitionId, [.. p.Replicas], [.. p.Isr], p.Leader, p.LeaderEpoch, p.PartitionEpoch)
        {
            AddingReplicas = [.. p.AddingReplicas ?? []],
            RemovingReplicas = [.. p.RemovingReplicas ?? []],
        };
        var partitions = topic.Partitions;
        partitions = p.PartitionId < partitions.Length
            ? partitions.SetItem(p.PartitionId, partition)
            : partitions.Add(partition);
        return PutTopic(topic with { Partitions = partitions });
    }

    private MetadataImage ApplyPartitionChange(PartitionChangeRecord c)
    {
        var topic = TopicsById[c.TopicId];
        var old = topic.Partitions[c.PartitionId];
        bool leaderChanged = c.Leader is { } l && l != old.Leader;
        var updated = old with
        {
            Leader = c.Leader ?? old.Leader,
            Isr = c.Isr is null ? old.Isr : [.. c.Isr],
            Replicas = c.Replicas is null ? old.Replicas : [.. c.Replicas],
            AddingReplicas = c.AddingReplicas is null ? old.AddingReplicas : [.. c.AddingReplicas],
            RemovingReplicas = c.RemovingReplicas is null ? old.RemovingReplicas : [.. c.RemovingReplicas],
            LeaderEpoch = leaderChanged ? old.LeaderEpoch + 1 : old.LeaderEpoch,
            PartitionEpoch = old.PartitionEpoch + 1,
        };
        return PutTopic(topic with { Partitions = topic.Partitions.SetItem(c.PartitionId, updated) });
    }

    private MetadataImage RemoveTopic(Guid topicId)
    {
        if (!TopicsById.TryGetValue(topicId, out var topic)) return this;
        return this with
        {
            TopicsByName = TopicsByName.Remove(topic.Name),
            TopicsById = TopicsById.Remove(topicId),
            Configs = Configs.Remove((ConfigResourceType.Topic, topic.Name)),
        };
    }

    private MetadataImage ApplyConfig(ConfigRecord c)
    {
        var key = (c.ResourceType, c.ResourceName);
        var current = ConfigsOf(c.ResourceType, c.ResourceName);
        current = c.Value is null ? current.Remove(c.Name) : current.SetItem(c.Name, c.Value);
        return this with { Configs = current.IsEmpty ? Configs.Remove(key) : Configs.SetItem(key, current) };
    }
}
