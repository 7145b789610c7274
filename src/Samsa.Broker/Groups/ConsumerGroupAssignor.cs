namespace Samsa.Broker.Groups;

/// <summary>A member as a server-side assignor sees it: its subscribed topics that exist, and its previous target.</summary>
public sealed record AssignmentMemberSpec(string MemberId, string? RackId, IReadOnlyList<ConsumerGroupTopic> Topics,
    IReadOnlySet<TopicIdPartition> PreviousTarget);

/// <summary>
/// A KIP-848 server-side assignor (Kafka's ConsumerGroupPartitionAssignor): maps every partition of every subscribed
/// topic to exactly one member subscribed to it. Pure: no state, no clock, deterministic for a given input.
/// </summary>
public interface IConsumerGroupAssignor
{
    /// <summary>The name clients choose with ServerAssignor (group.remote.assignor) and group.consumer.assignors lists.</summary>
    string Name { get; }

    Dictionary<string, IReadOnlySet<TopicIdPartition>> Assign(IReadOnlyList<AssignmentMemberSpec> members);
}

public static class ConsumerGroupAssignors
{
    public static IConsumerGroupAssignor? ByName(string name) => name switch
    {
        UniformAssignor.AssignorName => new UniformAssignor(),
        RangeAssignor.AssignorName => new RangeAssignor(),
        _ => null,
    };
}

/// <summary>
/// Range: per topic, the members subscribed to it in member id order get contiguous ranges of partitions; the first
/// (partitions % members) get one more. Not sticky (Kafka's server-side range assignor also keeps previous owners
/// where the ranges allow; Samsa recomputes the ranges).
/// </summary>
public sealed class RangeAssignor : IConsumerGroupAssignor
{
    public const string AssignorName = "range";

    public string Name => AssignorName;

    public Dictionary<string, IReadOnlySet<TopicIdPartition>> Assign(IReadOnlyList<AssignmentMemberSpec> members)
    {
        var result = members.ToDictionary(m => m.MemberId, _ => new HashSet<TopicIdPartition>(), StringComparer.Ordinal);
        var topics = members.SelectMany(m => m.Topics).DistinctBy(t => t.TopicId).OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            var subscribers = members.Where(m => m.Topics.Any(t => t.TopicId == topic.TopicId))
                .Select(m => m.MemberId).Order(StringComparer.Ordinal).ToList();
            int quota = topic.NumPartitions / subscribers.Count, extra = topic.NumPartitions % subscribers.Count, next = 0;
            for (int i = 0; i < subscribers.Count; i++)
            {
                int count = quota + (i < extra ? 1 : 0);
                for (int k = 0; k < count; k++) result[subscribers[i]].Add(new TopicIdPartition(topic.TopicId, next++));
            }
        }
        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<TopicIdPartition>)kv.Value, StringComparer.Ordinal);
    }
}
