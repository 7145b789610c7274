using Confluent.Kafka;

namespace Samsa.Commands;

/// <summary>
/// One partition of a consumer group as <c>samsa group describe</c> shows it. Committed is the group's committed offset
/// (the next offset the group will read), null when the group never committed one; LogEndOffset is the high watermark
/// (ListOffsets latest), null when the partition could not be asked (e.g. its topic was deleted).
/// </summary>
internal sealed record PartitionLag(string Topic, int Partition, long? Committed, long? LogEndOffset, string? MemberId, string? ClientId, string? Host)
{
    /// <summary>
    /// Records the group has not read yet: log end minus committed, exactly as Kafka's kafka-consumer-groups.sh computes
    /// it (no clamping, so a committed offset past the log end after a truncation shows up as negative lag).
    /// Unknown (null) when nothing is committed, because lag is relative to a committed position.
    /// </summary>
    public long? Lag => Committed is { } committed && LogEndOffset is { } end ? end - committed : null;
}

/// <summary>Sum over a group's partitions; partitions without a committed offset count in <see cref="WithoutCommit"/> only.</summary>
internal sealed record LagTotals(int Partitions, int WithoutCommit, long Lag);

/// <summary>
/// Joins a group's committed offsets, the partitions' log end offsets and the members' assignments into one row per
/// partition that has a committed offset or an owner, plus the other partitions of the same topics (no commit, lag
/// unknown), so a partition the group never read from is visible rather than silently missing from the totals.
/// Pure: the verbs fetch the inputs over the wire.
/// </summary>
internal static class GroupLagCalculator
{
    public sealed record Owner(string MemberId, string? ClientId, string? Host);

    /// <param name="committed">Committed offsets; negative values (OffsetFetch's -1, "none") are treated as absent.</param>
    /// <param name="logEnd">High watermark per partition; partitions missing here get a null log end offset.</param>
    /// <param name="owners">The member each assigned partition belongs to.</param>
    /// <param name="topicPartitions">Every partition of the topics the group has offsets or assignments in (may be empty).</param>
    public static IReadOnlyList<PartitionLag> Compute(IReadOnlyDictionary<TopicPartition, long> committed,
        IReadOnlyDictionary<TopicPartition, long> logEnd, IReadOnlyDictionary<TopicPartition, Owner> owners,
        IEnumerable<TopicPartition> topicPartitions)
    {
        var partitions = committed.Where(kv => kv.Value >= 0).Select(kv => kv.Key).Union(owners.Keys).Union(topicPartitions);
        return partitions
            .OrderBy(tp => tp.Topic, StringComparer.Ordinal)
            .ThenBy(tp => tp.Partition.Value)
            .Select(tp =>
            {
                owners.TryGetValue(tp, out var owner);
                long? done = committed.TryGetValue(tp, out var c) && c >= 0 ? c : null;
                long? end = logEnd.TryGetValue(tp, out var e) && e >= 0 ? e : null;
                return new PartitionLag(tp.Topic, tp.Partition.Value, done, end, owner?.MemberId, owner?.ClientId, owner?.Host);
            })
            .ToList();
    }

    public static LagTotals Totals(IReadOnlyCollection<PartitionLag> rows) =>
        new(rows.Count, rows.Count(r => r.Committed is null), rows.Sum(r => r.Lag ?? 0));
}

/// <summary>Where <c>samsa group reset-offsets</c> moves a group, per partition.</summary>
internal enum ResetStrategy
{
    Earliest,
    Latest,
    DateTime,
    ShiftBy,
    ToOffset,
}

/// <summary>
/// The arithmetic of an offset reset, as kafka-consumer-groups.sh --reset-offsets does it: the target comes from the
/// strategy and is clamped to [earliest, latest] (the log start offset and the high watermark), so a reset never
/// points a group before retained data or past the end.
/// </summary>
internal static class OffsetResetPlanner
{
    /// <param name="current">The group's committed offset, null when none.</param>
    /// <param name="byTime">For <see cref="ResetStrategy.DateTime"/>: ListOffsets' answer for the timestamp, -1 when no
    /// record is that recent (the target is then the end, as in Kafka).</param>
    public static long Target(ResetStrategy strategy, long value, long? current, long earliest, long latest, long byTime, TopicPartition tp)
    {
        long target = strategy switch
        {
            ResetStrategy.Earliest => earliest,
            ResetStrategy.Latest => latest,
            ResetStrategy.DateTime => byTime >= 0 ? byTime : latest,
            ResetStrategy.ShiftBy => current is { } c
                ? SaturatingAdd(c, value)
                : throw new CliException($"Cannot shift the offset of {tp.Topic}:{tp.Partition.Value}: the group has no committed offset there " +
                                         "(use --to-earliest, --to-latest, --to-datetime or --to-offset for it)"),
            ResetStrategy.ToOffset => value,
            _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
        };
        return Math.Clamp(target, earliest, Math.Max(earliest, latest));
    }

    private static long SaturatingAdd(long a, long b)
    {
        long sum = unchecked(a + b);
        return ((a ^ sum) & (b ^ sum)) < 0 ? (b < 0 ? long.MinValue : long.MaxValue) : sum;
    }
}
