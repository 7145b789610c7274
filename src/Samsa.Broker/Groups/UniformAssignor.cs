namespace Samsa.Broker.Groups;

/// <summary>
/// Uniform (the default, as Kafka's UniformAssignor): balanced and sticky. Each member first keeps the partitions of
/// its previous target that are still valid for it; free partitions then go one by one to the eligible member with the
/// fewest partitions; finally partitions move from the most to the least loaded eligible member while that narrows the
/// gap by two or more. With identical subscriptions every member ends with ⌊P/M⌋ or ⌈P/M⌉ partitions and a member
/// only loses partitions it had above its share. Ties break on member id, so the result is deterministic.
/// </summary>
public sealed class UniformAssignor : IConsumerGroupAssignor
{
    public const string AssignorName = "uniform";

    public string Name => AssignorName;

    public Dictionary<string, IReadOnlySet<TopicIdPartition>> Assign(IReadOnlyList<AssignmentMemberSpec> members)
    {
        var ordered = members.OrderBy(m => m.MemberId, StringComparer.Ordinal).ToList();
        var eligible = ordered.ToDictionary(m => m.MemberId, m => m.Topics.ToDictionary(t => t.TopicId, t => t.NumPartitions), StringComparer.Ordinal);
        var result = ordered.ToDictionary(m => m.MemberId, _ => new SortedSet<TopicIdPartition>(PartitionOrder.Instance), StringComparer.Ordinal);
        var taken = new HashSet<TopicIdPartition>();

        foreach (var m in ordered)
            foreach (var p in m.PreviousTarget.Order(PartitionOrder.Instance))
                if (eligible[m.MemberId].TryGetValue(p.TopicId, out int n) && p.Partition < n && taken.Add(p))
                    result[m.MemberId].Add(p);

        var topics = ordered.SelectMany(m => m.Topics).DistinctBy(t => t.TopicId).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        foreach (var topic in topics)
            for (int i = 0; i < topic.NumPartitions; i++)
            {
                var p = new TopicIdPartition(topic.TopicId, i);
                if (taken.Contains(p)) continue;
                var target = ordered.Where(m => eligible[m.MemberId].ContainsKey(topic.TopicId))
                    .MinBy(m => result[m.MemberId].Count)!;
                result[target.MemberId].Add(p);
                taken.Add(p);
            }

        Balance(ordered, eligible, result);
        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<TopicIdPartition>)new HashSet<TopicIdPartition>(kv.Value), StringComparer.Ordinal);
    }

    private static void Balance(List<AssignmentMemberSpec> ordered, Dictionary<string, Dictionary<Guid, int>> eligible,
        Dictionary<string, SortedSet<TopicIdPartition>> result)
    {
        bool moved = true;
        while (moved)
        {
            moved = false;
            foreach (var donor in ordered.OrderByDescending(m => result[m.MemberId].Count))
            {
                var donorSet = result[donor.MemberId];
                foreach (var receiver in ordered.OrderBy(m => result[m.MemberId].Count))
                {
                    var receiverSet = result[receiver.MemberId];
                    if (receiverSet.Count + 1 >= donorSet.Count) break;
                    var movable = donorSet.Reverse().FirstOrDefault(p => eligible[receiver.MemberId].ContainsKey(p.TopicId));
                    if (movable == default && !donorSet.Contains(movable)) continue;
                    donorSet.Remove(movable);
                    receiverSet.Add(movable);
                    moved = true;
                    break;
                }
                if (moved) break;
            }
        }
    }

    private sealed class PartitionOrder : IComparer<TopicIdPartition>
    {
        public static readonly PartitionOrder Instance = new();

        public int Compare(TopicIdPartition x, TopicIdPartition y)
        {
            int c = x.TopicId.CompareTo(y.TopicId);
            return c != 0 ? c : x.Partition.CompareTo(y.Partition);
        }
    }
}
