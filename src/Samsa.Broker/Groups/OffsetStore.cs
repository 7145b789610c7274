namespace Samsa.Broker.Groups;

/// <summary>A committed offset as stored in __consumer_offsets (OffsetCommitValue). ExpireTimestamp -1 = broker retention.</summary>
public sealed record CommittedOffset(long Offset, int LeaderEpoch, string Metadata, long CommitTimestamp, long ExpireTimestamp);

/// <summary>
/// Committed offsets of the groups of one coordinator shard, independent of the group protocol (classic, consumer,
/// simple commits without any group membership). Not thread-safe: owned by its <see cref="GroupCoordinatorShard"/>,
/// used under the shard's lock.
/// </summary>
public sealed class OffsetStore
{
    private readonly Dictionary<string, Dictionary<(string Topic, int Partition), CommittedOffset>> _byGroup = new(StringComparer.Ordinal);

    private readonly Dictionary<(string Group, string Topic, int Partition), long> _sequences = [];

    // Offsets committed inside a producer's open transaction (TxnOffsetCommit), by producer id: invisible to OffsetFetch
    // until the transaction's COMMIT marker reaches this partition, dropped on ABORT.
    private readonly Dictionary<long, Dictionary<(string Group, string Topic, int Partition), CommittedOffset>> _pending = [];

    public IEnumerable<string> Groups => _byGroup.Keys;

    public bool HasOffsets(string group) => _byGroup.TryGetValue(group, out var o) && o.Count > 0;

    public CommittedOffset? Get(string group, string topic, int partition) =>
        _byGroup.TryGetValue(group, out var offsets) ? offsets.GetValueOrDefault((topic, partition)) : null;

    public IReadOnlyDictionary<(string Topic, int Partition), CommittedOffset> All(string group) =>
        _byGroup.TryGetValue(group, out var offsets) ? offsets : new Dictionary<(string, int), CommittedOffset>();

    public void Put(string group, string topic, int partition, CommittedOffset offset)
    {
        if (!_byGroup.TryGetValue(group, out var offsets)) _byGroup[group] = offsets = [];
        offsets[(topic, partition)] = offset;
    }

    /// <summary>
    /// Applies a commit that became durable, unless a later commit of the same partition (higher
    /// <paramref name="sequence"/>, the append order) was applied first: completions of durable appends may race.
    /// </summary>
    public void PutIfNewer(string group, string topic, int partition, CommittedOffset offset, long sequence)
    {
        var key = (group, topic, partition);
        if (_sequences.TryGetValue(key, out long applied) && applied > sequence) return;
        _sequences[key] = sequence;
        Put(group, topic, partition, offset);
    }

    /// <param name="sequence">
    /// The commit sequence at removal: a commit appended before the tombstone but completing after it (lower sequence)
    /// must not resurrect the offset in memory while the log ends with the tombstone.
    /// </param>
    public bool Remove(string group, string topic, int partition, long? sequence = null)
    {
        if (sequence is { } seq) _sequences[(group, topic, partition)] = seq;
        else _sequences.Remove((group, topic, partition)); // replay: no commit can be in flight
        if (!_byGroup.TryGetValue(group, out var offsets) || !offsets.Remove((topic, partition))) return false;
        if (offsets.Count == 0) _byGroup.Remove(group);
        return true;
    }

    public void PutPending(long producerId, string group, string topic, int partition, CommittedOffset offset)
    {
        if (!_pending.TryGetValue(producerId, out var offsets)) _pending[producerId] = offsets = [];
        offsets[(group, topic, partition)] = offset;
    }

    /// <summary>Removes and returns the pending offsets of a producer's transaction.</summary>
    public IReadOnlyList<((string Group, string Topic, int Partition) Key, CommittedOffset Offset)> TakePending(long producerId) =>
        _pending.Remove(producerId, out var offsets) ? [.. offsets.Select(kv => (kv.Key, kv.Value))] : [];

    /// <summary>True while an open transaction holds an offset of the partition for the group (UNSTABLE_OFFSET_COMMIT).</summary>
    public bool HasPending(string group, string topic, int partition)
    {
        foreach (var offsets in _pending.Values)
            if (offsets.ContainsKey((group, topic, partition))) return true;
        return false;
    }

    public IEnumerable<long> PendingProducers() => _pending.Keys;

    /// <summary>Removes and returns every offset of the group.</summary>
    public IReadOnlyList<(string Topic, int Partition)> RemoveGroup(string group, long sequence)
    {
        if (!_byGroup.Remove(group, out var offsets)) return [];
        foreach (var (topic, partition) in offsets.Keys) _sequences[(group, topic, partition)] = sequence;
        return [.. offsets.Keys];
    }

    /// <summary>
    /// Offsets to expire as Kafka 2.1+ (KIP-211) does: an explicit expire timestamp wins; otherwise an offset expires
    /// <paramref name="retentionMs"/> after <paramref name="baseTimestamp"/> (when the group became empty) or, when
    /// that is unknown, after its commit. <paramref name="expirable"/> restricts to topics no member subscribes to.
    /// </summary>
    public List<(string Topic, int Partition)> Expired(string group, long nowMs, long retentionMs, long? baseTimestamp,
        Func<string, bool> expirable)
    {
        var expired = new List<(string, int)>();
        if (!_byGroup.TryGetValue(group, out var offsets)) return expired;
        foreach (var ((topic, partition), o) in offsets)
        {
            if (!expirable(topic)) continue;
            bool due = o.ExpireTimestamp >= 0
                ? nowMs >= o.ExpireTimestamp
                : nowMs - (baseTimestamp ?? o.CommitTimestamp) >= retentionMs;
            if (due) expired.Add((topic, partition));
        }
        return expired;
    }
}
