namespace Samsa.Broker.Groups;

/// <summary>A group's state and committed offsets at one instant, for /metrics (lag = high watermark - committed).</summary>
public sealed record GroupMetricsSnapshot(string GroupId, string State, IReadOnlyList<(string Topic, int Partition, long Offset)> Committed);

public sealed partial class GroupCoordinatorShard
{
    /// <summary>
    /// Read-only copy of every group's state and committed offsets, taken under the lock (short: copies only).
    /// Empty while loading or after close. Groups known only by their offsets are reported as Empty.
    /// </summary>
    public IReadOnlyList<GroupMetricsSnapshot> SnapshotForMetrics()
    {
        lock (Lock)
        {
            if (StatusError != Samsa.Protocol.ErrorCode.None) return [];
            var result = new List<GroupMetricsSnapshot>(_groups.Count);
            foreach (var group in _groups.Values)
                result.Add(new(group.GroupId, group.StateName, Committed(group.GroupId)));
            foreach (var groupId in Offsets.Groups)
                if (!_groups.ContainsKey(groupId))
                    result.Add(new(groupId, "Empty", Committed(groupId)));
            return result;
        }

        List<(string, int, long)> Committed(string groupId) =>
            [.. Offsets.All(groupId).Select(kv => (kv.Key.Topic, kv.Key.Partition, kv.Value.Offset))];
    }
}
