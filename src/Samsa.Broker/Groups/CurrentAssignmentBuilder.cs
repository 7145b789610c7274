namespace Samsa.Broker.Groups;

/// <summary>The next current assignment of a member (what its heartbeat response tells it to own).</summary>
public sealed record MemberAssignmentUpdate(int MemberEpoch, ConsumerMemberState State,
    IReadOnlySet<TopicIdPartition> Assigned, IReadOnlySet<TopicIdPartition> PendingRevocation);

/// <summary>
/// Incremental reconciliation of one member towards its target assignment, as Kafka's CurrentAssignmentBuilder:
/// partitions leaving the member are revoked first (UNREVOKED_PARTITIONS: the member keeps its epoch and gets only
/// the partitions it keeps, until its heartbeat's owned partitions no longer list the revoked ones); then it moves
/// to the assignment epoch and gets the new partitions that no other member owns; those still owned by another
/// member (assigned or pending revocation) are withheld (UNRELEASED_PARTITIONS) until released. Hence a partition is
/// never owned by two members at once.
/// </summary>
public static class CurrentAssignmentBuilder
{
    /// <summary>
    /// The member's next state, or null when it does not change. <paramref name="owned"/> is what the heartbeat
    /// reported (null = not sent, which counts as still owning everything).
    /// </summary>
    public static MemberAssignmentUpdate? Reconcile(ConsumerGroup group, ConsumerGroupMember member, int targetEpoch,
        IReadOnlySet<TopicIdPartition> target, IReadOnlyCollection<TopicIdPartition>? owned)
    {
        switch (member.State)
        {
            case ConsumerMemberState.Stable when member.MemberEpoch == targetEpoch && member.Assigned.SetEquals(target):
                return null;
            case ConsumerMemberState.UnrevokedPartitions when owned is null || owned.Any(member.PendingRevocation.Contains):
                return null;
        }
        var next = Compute(group, member, targetEpoch, target, owned);
        bool same = next.MemberEpoch == member.MemberEpoch && next.State == member.State
            && next.Assigned.SetEquals(member.Assigned) && next.PendingRevocation.SetEquals(member.PendingRevocation);
        return same ? null : next;
    }

    private static MemberAssignmentUpdate Compute(ConsumerGroup group, ConsumerGroupMember member, int targetEpoch,
        IReadOnlySet<TopicIdPartition> target, IReadOnlyCollection<TopicIdPartition>? owned)
    {
        var kept = member.Assigned.Where(target.Contains).ToHashSet();
        var revoke = member.Assigned.Where(p => !target.Contains(p)).ToHashSet();
        if (revoke.Count > 0 && (owned is null || owned.Any(revoke.Contains)))
            return new(member.MemberEpoch, ConsumerMemberState.UnrevokedPartitions, kept, revoke);

        bool unreleased = false;
        foreach (var p in target)
        {
            if (kept.Contains(p)) continue;
            string? owner = group.Owner(p);
            if (owner is null || owner == member.MemberId) kept.Add(p);
            else unreleased = true;
        }
        return new(targetEpoch, unreleased ? ConsumerMemberState.UnreleasedPartitions : ConsumerMemberState.Stable,
            kept, new HashSet<TopicIdPartition>());
    }
}
