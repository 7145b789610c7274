using Samsa.Storage;

namespace Samsa.Broker.Replication;

/// <summary>
/// Where a follower cuts its log once it knows where the leader's history for an epoch ends (from OffsetsForLeaderEpoch
/// or a fetch response's diverging epoch), Kafka's AbstractFetcherThread.getOffsetTruncationState (KIP-101, KIP-279):
/// <list type="bullet">
/// <item>leader knows no such epoch (end offset -1): keep the log up to the high watermark, the part known committed;</item>
/// <item>leader answered an epoch the follower also has: cut at the smaller of both ends of that epoch — done;</item>
/// <item>the follower's last epoch at or below it is older: cut at the smaller end and ask again with the follower's
/// epoch from there (the histories may diverge further back) — not done.</item>
/// </list>
/// The result never exceeds the follower's log end: truncation only removes.
/// </summary>
internal static class Truncation
{
    public readonly record struct Plan(long Offset, bool Completed);

    public static Plan Compute(PartitionLog log, int leaderEpoch, long leaderEndOffset)
    {
        long end = log.LogEndOffset;
        if (leaderEndOffset < 0) return new(Math.Min(log.HighWatermark, end), true);
        if (leaderEpoch < 0) return new(Math.Min(leaderEndOffset, end), true);
        var (followerEpoch, followerEnd) = log.EndOffsetForEpoch(leaderEpoch);
        if (followerEpoch < 0) return new(Math.Min(leaderEndOffset, end), true);
        if (followerEpoch != leaderEpoch) return new(Math.Min(Math.Min(followerEnd, leaderEndOffset), end), false);
        return new(Math.Min(Math.Min(followerEnd, leaderEndOffset), end), true);
    }
}
