namespace Samsa.Commands;

/// <summary>
/// Computes an even replica assignment over the live brokers with few moves, for <c>samsa cluster rebalance</c>.
/// Replica moves first: while the most loaded broker holds at least two replicas more than the least loaded one, one
/// replica of a partition on the former (and not on the latter) moves there, keeping its position in the replica list
/// (a rack-aware move is preferred: the new broker's rack not yet used by the partition, or the same rack as the one it
/// replaces). Each move narrows the gap, so the count of moves is at most what evenness needs. Then preferred leaders:
/// while one broker is the first replica of at least two partitions more than another, a partition whose replicas
/// include both swaps their positions — a reorder, no data moves. Replicas on brokers that are not live are left alone.
/// </summary>
internal static class RebalancePlanner
{
    public sealed record Plan(IReadOnlyDictionary<(string Topic, int Partition), int[]> Changes, int ReplicaMoves, int LeaderSwaps);

    public static Plan Compute(
        IReadOnlyDictionary<(string Topic, int Partition), int[]> current, IReadOnlyDictionary<int, string?> liveBrokers)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(liveBrokers);
        var assignment = current.OrderBy(kv => kv.Key.Topic, StringComparer.Ordinal).ThenBy(kv => kv.Key.Partition)
            .ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var brokers = liveBrokers.Keys.Order().ToArray();
        int moves = 0, swaps = 0;
        if (brokers.Length < 2) return new(new Dictionary<(string, int), int[]>(), 0, 0);

        while (true)
        {
            var load = brokers.ToDictionary(b => b, b => assignment.Values.Count(r => r.Contains(b)));
            int over = brokers.OrderByDescending(b => load[b]).ThenBy(b => b).First();
            int under = brokers.OrderBy(b => load[b]).ThenBy(b => b).First();
            if (load[over] - load[under] <= 1) break;
            var candidates = assignment.Where(kv => kv.Value.Contains(over) && !kv.Value.Contains(under)).ToList();
            if (candidates.Count == 0) break;
            // Prefer a move that keeps racks distinct, then one that does not move a preferred leader.
            var chosen = candidates
                .OrderByDescending(kv => RackScore(kv.Value, over, under, liveBrokers))
                .ThenBy(kv => kv.Value[0] == over ? 1 : 0)
                .First();
            chosen.Value[Array.IndexOf(chosen.Value, over)] = under;
            moves++;
        }

        while (true)
        {
            var leaders = brokers.ToDictionary(b => b, b => assignment.Values.Count(r => r.Length > 0 && r[0] == b));
            int over = brokers.OrderByDescending(b => leaders[b]).ThenBy(b => b).First();
            int under = brokers.OrderBy(b => leaders[b]).ThenBy(b => b).First();
            if (leaders[over] - leaders[under] <= 1) break;
            var candidate = assignment.Values.FirstOrDefault(r => r[0] == over && r.Contains(under));
            if (candidate is null) break;
            int i = Array.IndexOf(candidate, under);
            (candidate[0], candidate[i]) = (candidate[i], candidate[0]);
            swaps++;
        }

        var changes = assignment.Where(kv => !kv.Value.SequenceEqual(current[kv.Key])).ToDictionary(kv => kv.Key, kv => kv.Value);
        return new(changes, moves, swaps);
    }

    private static int RackScore(int[] replicas, int from, int to, IReadOnlyDictionary<int, string?> racks)
    {
        string? target = racks.GetValueOrDefault(to);
        if (target is null) return 0;
        if (target == racks.GetValueOrDefault(from)) return 2;
        return replicas.Where(r => r != from).Any(r => racks.GetValueOrDefault(r) == target) ? -1 : 1;
    }
}
