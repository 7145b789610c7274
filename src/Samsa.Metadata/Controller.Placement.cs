namespace Samsa.Metadata;

public sealed partial class Controller
{
    /// <summary>Places new partitions on the live brokers, rack-aware (see <see cref="ReplicaPlacer"/>).</summary>
    private int[][] Place(MetadataImage image, int[] brokers, int firstPartition, int count, int replicationFactor)
    {
        var racks = brokers.ToDictionary(b => b, b => image.Brokers.GetValueOrDefault(b)?.Rack);
        return ReplicaPlacer.Place(racks, firstPartition, count, replicationFactor, _random);
    }
}

/// <summary>
/// Rack-aware replica placement (the idea of Kafka's rack-aware assignment and KRaft's StripedReplicaPlacer):
/// brokers are ordered so racks alternate (r1-b1, r2-b1, r3-b1, r1-b2, …); partition p's leader is the broker at
/// (start + p) in that order, so leaders spread evenly over brokers and racks; each follower is the next broker at a
/// shifting distance whose rack the partition does not use yet (any unused broker once every rack holds a replica), so
/// replicas of one partition land on distinct racks where possible and followers spread too. Brokers without
/// <c>broker.rack</c> share one unnamed rack, so a rack-less cluster gets plain round-robin placement.
/// </summary>
public static class ReplicaPlacer
{
    public static int[][] Place(IReadOnlyDictionary<int, string?> brokerRacks, int firstPartition, int count, int replicationFactor, Random random)
    {
        ArgumentNullException.ThrowIfNull(brokerRacks);
        ArgumentNullException.ThrowIfNull(random);
        if (replicationFactor > brokerRacks.Count) throw new ArgumentOutOfRangeException(nameof(replicationFactor));
        var ordered = RackAlternated(brokerRacks);
        int n = ordered.Length;
        int rackCount = brokerRacks.Values.Select(r => r ?? "").Distinct().Count();
        int start = n == 1 ? 0 : random.Next(n);
        int shift = n == 1 ? 0 : random.Next(n);
        var result = new int[count][];
        for (int i = 0; i < count; i++)
        {
            int p = firstPartition + i;
            if (p > 0 && p % n == 0) shift++;
            int first = (start + p) % n;
            var replicas = new List<int>(replicationFactor) { ordered[first] };
            var usedRacks = new HashSet<string> { brokerRacks[ordered[first]] ?? "" };
            int step = n == 1 ? 0 : shift % (n - 1);
            for (int k = 0; replicas.Count < replicationFactor && k < 2 * n; k++)
            {
                int candidate = ordered[(first + 1 + (step + k) % Math.Max(1, n - 1)) % n];
                if (replicas.Contains(candidate)) continue;
                string rack = brokerRacks[candidate] ?? "";
                // Prefer a new rack until every rack holds a replica of this partition.
                if (usedRacks.Contains(rack) && usedRacks.Count < rackCount && k < n - 1) continue;
                replicas.Add(candidate);
                usedRacks.Add(rack);
            }
            // Second pass (only when rack preference skipped too many): fill from any broker not used yet.
            for (int k = 0; replicas.Count < replicationFactor && k < n; k++)
                if (!replicas.Contains(ordered[(first + 1 + k) % n])) replicas.Add(ordered[(first + 1 + k) % n]);
            result[i] = [.. replicas];
        }
        return result;
    }

    /// <summary>Brokers ordered so that consecutive brokers are on different racks where possible.</summary>
    public static int[] RackAlternated(IReadOnlyDictionary<int, string?> brokerRacks)
    {
        ArgumentNullException.ThrowIfNull(brokerRacks);
        var byRack = brokerRacks.GroupBy(kv => kv.Value ?? "", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Select(kv => kv.Key).Order().ToArray()).ToArray();
        var result = new List<int>(brokerRacks.Count);
        for (int i = 0; result.Count < brokerRacks.Count; i++)
            foreach (var rack in byRack)
                if (i < rack.Length) result.Add(rack[i]);
        return [.. result];
    }
}
