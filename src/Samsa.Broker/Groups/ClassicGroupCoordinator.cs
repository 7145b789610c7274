using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

/// <summary>A JoinGroup as the coordinator sees it (the handler has mapped versions: v0 rebalance timeout = session timeout).</summary>
public sealed record JoinGroupCommand(
    string GroupId, string MemberId, string? GroupInstanceId, string ProtocolType, IReadOnlyList<ProtocolMetadata> Protocols,
    int SessionTimeoutMs, int RebalanceTimeoutMs, string ClientId, string ClientHost,
    bool RequireKnownMemberId, bool SupportsSkipAssignment);

/// <summary>
/// The classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) as Kafka's ClassicGroup state machine:
/// Empty → PreparingRebalance (members (re)join; completes when all known members joined, or the rebalance timeout
/// removes the rest) → CompletingRebalance (leader sends assignments with SyncGroup; they are persisted with the
/// group metadata record) → Stable. Every method runs under the shard lock; futures complete outside of it
/// (TaskCompletionSource with asynchronous continuations).
/// </summary>
public sealed class ClassicGroupCoordinator(GroupCoordinatorShard shard)
{
    private long NowMs => shard.NowMs;

    public Task<JoinGroupResult> JoinAsync(JoinGroupCommand c)
    {
        lock (shard.Lock)
        {
            if (shard.StatusError != ErrorCode.None) return Done(shard.StatusError, c.MemberId);
            if (c.SessionTimeoutMs < shard.Config.MinSessionTimeoutMs || c.SessionTimeoutMs > shard.Config.MaxSessionTimeoutMs)
                return Done(ErrorCode.InvalidSessionTimeout, c.MemberId);

            var existing = shard.Group(c.GroupId);
            if (existing is ConsumerGroup { IsEmpty: true } abandoned)
            {
                // As Kafka (maybeDeleteEmptyConsumerGroup): an empty KIP-848 group gives way to a classic one, so a
                // team rolling back from group.protocol=consumer is not locked out of its group id.
                shard.RemoveGroup(abandoned.GroupId);
                _ = shard.Persist([.. ConsumerGroupRecordSerde.GroupTombstones(abandoned.GroupId)]);
                existing = null;
            }
            if (existing is not null and not ClassicGroup) return Done(ErrorCode.InconsistentGroupProtocol, c.MemberId);
            var group = (ClassicGroup?)existing;
            if (group is null)
            {
                if (c.MemberId.Length > 0) return Done(ErrorCode.UnknownMemberId, c.MemberId);
                group = new ClassicGroup(c.GroupId, NowMs);
                shard.AddGroup(group);
            }
            if (group.State == ClassicGroupState.Dead) return Done(ErrorCode.CoordinatorNotAvailable, c.MemberId);
            return c.MemberId.Length == 0 ? JoinUnknownMember(group, c) : JoinKnownMember(group, c);
        }
    }

    private Task<JoinGroupResult> JoinUnknownMember(ClassicGroup group, JoinGroupCommand c)
    {
        string? staticId = c.GroupInstanceId is null ? null : group.StaticMemberId(c.GroupInstanceId);
        if (staticId is null && group.MemberCount + group.PendingMembers.Count >= shard.Config.MaxGroupSize)
            return Done(ErrorCode.GroupMaxSizeReached, "");
        if (!group.SupportsProtocols(c.ProtocolType, c.Protocols)) return Done(ErrorCode.InconsistentGroupProtocol, "");

        string newMemberId = (c.GroupInstanceId ?? c.ClientId) + "-" + Guid.NewGuid().ToString();
        if (staticId is not null) return UpdateStaticMember(group, staticId, newMemberId, c);
        if (c.GroupInstanceId is null && c.RequireKnownMemberId)
        {
            // KIP-394: hand out the id; the member must join again with it within its session timeout.
            group.PendingMembers.Add(newMemberId);
            shard.Schedule(TimeSpan.FromMilliseconds(c.SessionTimeoutMs), () =>
            {
                if (group.PendingMembers.Remove(newMemberId)) MaybeCompleteJoin(group);
            });
            return Done(ErrorCode.MemberIdRequired, newMemberId);
        }
        return AddMemberAndRebalance(group, newMemberId, c);
    }

    private Task<JoinGroupResult> JoinKnownMember(ClassicGroup group, JoinGroupCommand c)
    {
        if (c.GroupInstanceId is not null && group.StaticMemberId(c.GroupInstanceId) is { } current && current != c.MemberId)
            return Done(ErrorCode.FencedInstanceId, c.MemberId);
        if (group.PendingMembers.Contains(c.MemberId))
        {
            if (!group.SupportsProtocols(c.ProtocolType, c.Protocols)) return Done(ErrorCode.InconsistentGroupProtocol, c.MemberId);
            group.PendingMembers.Remove(c.MemberId);
            return AddMemberAndRebalance(group, c.MemberId, c);
        }
        var member = group.Member(c.MemberId);
        if (member is null) return Done(ErrorCode.UnknownMemberId, c.MemberId);
        if (!SupportsProtocolsExcept(group, member, c)) return Done(ErrorCode.InconsistentGroupProtocol, c.MemberId);

        switch (group.State)
        {
            case ClassicGroupState.PreparingRebalance:
                return UpdateMemberAndRebalance(group, member, c);
            case ClassicGroupState.CompletingRebalance:
                if (member.Matches(c.Protocols))
                {
                    // A retried join: answer with the generation already formed.
                    TouchSession(group, member);
                    return Task.FromResult(CurrentGeneration(group, member.MemberId, group.IsLeader(member.MemberId), false));
                }
                return UpdateMemberAndRebalance(group, member, c);
            case ClassicGroupState.Stable:
                if (group.IsLeader(member.MemberId) || !member.Matches(c.Protocols))
                    return UpdateMemberAndRebalance(group, member, c);
                TouchSession(group, member);
                return Task.FromResult(CurrentGeneration(group, member.MemberId, false, false));
            default:
                return Done(ErrorCode.UnknownMemberId, c.MemberId);
        }
    }

    /// <summary>Whether the group would accept these protocols from this member if its own old ones were gone.</summary>
    private static bool SupportsProtocolsExcept(ClassicGroup group, ClassicGroupMember member, JoinGroupCommand c)
    {
        if (c.ProtocolType != group.ProtocolType || c.Protocols.Count == 0) return false;
        if (group.MemberCount == 1) return true;
        var others = group.Members.Where(m => m != member).ToList();
        return c.Protocols.Any(p => others.All(o => o.Protocols.Any(op => op.Name == p.Name)));
    }

    private Task<JoinGroupResult> AddMemberAndRebalance(ClassicGroup group, string memberId, JoinGroupCommand c)
    {
        var member = new ClassicGroupMember(memberId, c.GroupInstanceId, c.ClientId, c.ClientHost, c.RebalanceTimeoutMs,
            c.SessionTimeoutMs, c.ProtocolType, c.Protocols) { IsNew = true };
        var tcs = NewJoin();
        member.AwaitingJoin = tcs;
        group.Add(member);
        TouchSession(group, member);
        if (group.State == ClassicGroupState.PreparingRebalance && group.InitialDelayDeadlineMs > NowMs)
            ExtendInitialDelay(group);
        if (group.State is ClassicGroupState.Empty or ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance)
            PrepareRebalance(group, $"member {memberId} joined");
        else MaybeCompleteJoin(group);
        return tcs.Task;
    }

    private Task<JoinGroupResult> UpdateMemberAndRebalance(ClassicGroup group, ClassicGroupMember member, JoinGroupCommand c)
    {
        Update(member, c);
        var tcs = NewJoin();
        member.AwaitingJoin?.TrySetResult(new JoinGroupResult(ErrorCode.RebalanceInProgress, member.MemberId));
        member.AwaitingJoin = tcs;
        TouchSession(group, member);
        if (group.State == ClassicGroupState.PreparingRebalance) MaybeCompleteJoin(group);
        else PrepareRebalance(group, $"member {member.MemberId} rejoined");
        return tcs.Task;
    }

    /// <summary>
    /// KIP-345: a known group.instance.id joins with an unknown member id (a restarted static member). The member
    /// gets a new id and keeps its assignment; the old id is fenced. In Stable, if the protocol of the next
    /// generation would not change, the group is only persisted and no rebalance happens.
    /// </summary>
    private Task<JoinGroupResult> UpdateStaticMember(ClassicGroup group, string oldMemberId, string newMemberId, JoinGroupCommand c)
    {
        var member = group.Member(oldMemberId)!;
        member.AwaitingJoin?.TrySetResult(new JoinGroupResult(ErrorCode.FencedInstanceId, oldMemberId));
        member.AwaitingSync?.TrySetResult(new SyncGroupResult(ErrorCode.FencedInstanceId, []));
        member.AwaitingJoin = null;
        member.AwaitingSync = null;
        group.ReplaceStaticMember(member, newMemberId);
        var oldProtocols = member.Protocols;
        Update(member, c);
        TouchSession(group, member);
        shard.Logger.LogInformation("Static member {Instance} of group {Group} rejoined as {Member} (was {Old})",
            c.GroupInstanceId, group.GroupId, newMemberId, oldMemberId);

        var tcs = NewJoin();
        switch (group.State)
        {
            case ClassicGroupState.Stable when group.SelectProtocol() == group.ProtocolName:
                int generation = group.GenerationId;
                var durable = shard.PersistGroup(group);
                bool leader = group.IsLeader(newMemberId);
                durable.ContinueWith(t =>
                {
                    lock (shard.Lock)
                    {
                        if (t.IsFaulted)
                        {
                            member.Protocols = oldProtocols;
                            tcs.TrySetResult(new JoinGroupResult(ErrorCode.UnknownServerError, newMemberId));
                            return;
                        }
                        // KIP-814: a static leader learns the members but must not reassign (skip_assignment, v9+).
                        tcs.TrySetResult(group.GenerationId == generation
                            ? CurrentGeneration(group, newMemberId, leader && c.SupportsSkipAssignment, leader && c.SupportsSkipAssignment)
                            : new JoinGroupResult(ErrorCode.RebalanceInProgress, newMemberId));
                    }
                }, TaskScheduler.Default);
                return tcs.Task;
            case ClassicGroupState.PreparingRebalance:
                member.AwaitingJoin = tcs;
                MaybeCompleteJoin(group);
                return tcs.Task;
            default:
                // Stable with a changed protocol, or CompletingRebalance (the leader may be assigning to the old id).
                member.AwaitingJoin = tcs;
                PrepareRebalance(group, $"static member {c.GroupInstanceId} rejoined");
                return tcs.Task;
        }
    }

    private static void Update(ClassicGroupMember member, JoinGroupCommand c)
    {
        member.Protocols = c.Protocols;
        member.ProtocolType = c.ProtocolType;
        member.SessionTimeoutMs = c.SessionTimeoutMs;
        member.RebalanceTimeoutMs = c.RebalanceTimeoutMs;
        member.ClientId = c.ClientId;
        member.ClientHost = c.ClientHost;
    }

    private void PrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.State == ClassicGroupState.CompletingRebalance)
            foreach (var m in group.Members)
            {
                m.Assignment = [];
                m.AwaitingSync?.TrySetResult(new SyncGroupResult(ErrorCode.RebalanceInProgress, []));
                m.AwaitingSync = null;
            }
        group.SyncTimer?.Dispose();
        group.PendingSyncMembers.Clear();
        bool initial = group.State == ClassicGroupState.Empty && shard.Config.InitialRebalanceDelayMs > 0;
        group.TransitionTo(ClassicGroupState.PreparingRebalance, NowMs);
        long now = NowMs;
        group.InitialDelayDeadlineMs = initial ? now + Math.Min(shard.Config.InitialRebalanceDelayMs, group.RebalanceTimeoutMs) : 0;
        group.JoinTimer?.Dispose();
        int generation = group.GenerationId;
        group.JoinTimer = shard.Schedule(TimeSpan.FromMilliseconds(group.RebalanceTimeoutMs), () =>
        {
            if (group.State == ClassicGroupState.PreparingRebalance && group.GenerationId == generation) CompleteJoin(group);
        });
        if (initial) ScheduleInitialDelayCheck(group);
        shard.Logger.LogInformation("Preparing to rebalance group {Group} in state PreparingRebalance with old generation {Generation} (reason: {Reason})",
            group.GroupId, group.GenerationId, reason);
        MaybeCompleteJoin(group);
    }

    private void ExtendInitialDelay(ClassicGroup group)
    {
        group.InitialDelayDeadlineMs = Math.Min(NowMs + shard.Config.InitialRebalanceDelayMs, group.CurrentStateTimestamp + group.RebalanceTimeoutMs);
        ScheduleInitialDelayCheck(group);
    }

    private void ScheduleInitialDelayCheck(ClassicGroup group)
    {
        long deadline = group.InitialDelayDeadlineMs;
        shard.Schedule(TimeSpan.FromMilliseconds(deadline - NowMs), () =>
        {
            if (group.InitialDelayDeadlineMs == deadline && group.State == ClassicGroupState.PreparingRebalance) CompleteJoin(group);
        });
    }

    internal void MaybeCompleteJoin(ClassicGroup group)
    {
        if (group.State == ClassicGroupState.PreparingRebalance && group.AllMembersJoined && NowMs >= group.InitialDelayDeadlineMs)
            CompleteJoin(group);
    }

    /// <summary>Ends the join phase: members that did not rejoin are removed, a new generation is formed.</summary>
    private void CompleteJoin(ClassicGroup group)
    {
        group.JoinTimer?.Dispose();
        group.JoinTimer = null;
        group.InitialDelayDeadlineMs = 0;
        foreach (var m in group.Members.Where(m => m.AwaitingJoin is null).ToList())
        {
            shard.Logger.LogInformation("Member {Member} of group {Group} did not rejoin in time; removing it", m.MemberId, group.GroupId);
            m.SessionTimer?.Dispose();
            group.Remove(m.MemberId);
        }
        group.PendingMembers.Clear();
        group.GenerationId++;
        if (group.IsEmpty)
        {
            group.ProtocolName = null;
            group.LeaderId = null;
            group.TransitionTo(ClassicGroupState.Empty, NowMs);
            shard.Logger.LogInformation("Group {Group} is empty at generation {Generation}", group.GroupId, group.GenerationId);
            _ = shard.PersistGroup(group);
            return;
        }
        group.ProtocolName = group.SelectProtocol();
        if (group.LeaderId is null || !group.Has(group.LeaderId)) group.LeaderId = group.Members.First().MemberId;
        group.TransitionTo(ClassicGroupState.CompletingRebalance, NowMs);
        shard.Logger.LogInformation("Stabilized group {Group} generation {Generation} ({Protocol}) with {Members} members",
            group.GroupId, group.GenerationId, group.ProtocolName, group.MemberCount);
        foreach (var m in group.Members)
        {
            var result = CurrentGeneration(group, m.MemberId, group.IsLeader(m.MemberId), false);
            m.AwaitingJoin!.TrySetResult(result);
            m.AwaitingJoin = null;
            m.IsNew = false;
            group.PendingSyncMembers.Add(m.MemberId);
            TouchSession(group, m);
        }
        int generation = group.GenerationId;
        group.SyncTimer?.Dispose();
        group.SyncTimer = shard.Schedule(TimeSpan.FromMilliseconds(group.RebalanceTimeoutMs), () =>
        {
            if (group.GenerationId != generation || group.PendingSyncMembers.Count == 0) return;
            if (group.State is not (ClassicGroupState.CompletingRebalance or ClassicGroupState.Stable)) return;
            foreach (var id in group.PendingSyncMembers.ToList())
                if (group.Member(id) is { } late) RemoveMember(group, late, "did not sync in time", rebalance: false);
            PrepareRebalance(group, "members did not sync in time");
        });
    }

    private static JoinGroupResult CurrentGeneration(ClassicGroup group, string memberId, bool includeMembers, bool skipAssignment) => new(
        ErrorCode.None, memberId, group.GenerationId, group.ProtocolType, group.ProtocolName, group.LeaderId ?? "",
        includeMembers
            ? group.Members.Select(m => new JoinGroupMemberInfo(m.MemberId, m.GroupInstanceId, m.MetadataFor(group.ProtocolName!) ?? [])).ToList()
            : [],
        skipAssignment);

    public Task<SyncGroupResult> SyncAsync(string groupId, int generationId, string memberId, string? instanceId,
        string? protocolType, string? protocolName, IReadOnlyDictionary<string, byte[]> assignments)
    {
        lock (shard.Lock)
        {
            if (shard.StatusError != ErrorCode.None) return Sync(shard.StatusError);
            var group = shard.FindClassicGroup(groupId);
            if (group is null) return Sync(ErrorCode.UnknownMemberId);
            if (group.State == ClassicGroupState.Dead) return Sync(ErrorCode.CoordinatorNotAvailable);
            var error = ValidateMember(group, memberId, instanceId, generationId);
            if (error != ErrorCode.None) return Sync(error);
            if ((protocolType is not null && protocolType != group.ProtocolType) || (protocolName is not null && protocolName != group.ProtocolName))
                return Sync(ErrorCode.InconsistentGroupProtocol);
            var member = group.Member(memberId)!;
            switch (group.State)
            {
                case ClassicGroupState.PreparingRebalance:
                    return Sync(ErrorCode.RebalanceInProgress);
                case ClassicGroupState.Stable:
                    group.PendingSyncMembers.Remove(memberId);
                    TouchSession(group, member);
                    return Task.FromResult(new SyncGroupResult(ErrorCode.None, member.Assignment, group.ProtocolType, group.ProtocolName));
                case ClassicGroupState.CompletingRebalance:
                    var tcs = new TaskCompletionSource<SyncGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                    member.AwaitingSync?.TrySetResult(new SyncGroupResult(ErrorCode.RebalanceInProgress, []));
                    member.AwaitingSync = tcs;
                    group.PendingSyncMembers.Remove(memberId);
                    TouchSession(group, member);
                    if (group.IsLeader(memberId)) StoreAssignment(group, assignments);
                    return tcs.Task;
                default:
                    return Sync(ErrorCode.UnknownMemberId);
            }
        }
    }

    /// <summary>Persists the leader's assignment with the group; on durability the group becomes Stable and every waiting member gets its part.</summary>
    private void StoreAssignment(ClassicGroup group, IReadOnlyDictionary<string, byte[]> assignments)
    {
        int generation = group.GenerationId;
        var previous = group.Members.ToDictionary(m => m.MemberId, m => m.Assignment);
        foreach (var m in group.Members) m.Assignment = assignments.GetValueOrDefault(m.MemberId) ?? [];
        var record = group.ToRecord();
        foreach (var m in group.Members) m.Assignment = previous[m.MemberId];
        var durable = shard.Persist([GroupRecordSerde.GroupMetadata(group.GroupId, record)]);
        durable.ContinueWith(t =>
        {
            lock (shard.Lock)
            {
                if (group.GenerationId != generation || group.State != ClassicGroupState.CompletingRebalance) return;
                if (t.IsFaulted)
                {
                    shard.Logger.LogWarning(t.Exception, "Persisting the assignment of group {Group} failed", group.GroupId);
                    foreach (var m in group.Members)
                    {
                        m.AwaitingSync?.TrySetResult(new SyncGroupResult(ErrorCode.CoordinatorNotAvailable, []));
                        m.AwaitingSync = null;
                    }
                    PrepareRebalance(group, "failed to persist the assignment");
                    return;
                }
                foreach (var m in group.Members)
                {
                    m.Assignment = assignments.GetValueOrDefault(m.MemberId) ?? [];
                    m.AwaitingSync?.TrySetResult(new SyncGroupResult(ErrorCode.None, m.Assignment, group.ProtocolType, group.ProtocolName));
                    m.AwaitingSync = null;
                }
                group.TransitionTo(ClassicGroupState.Stable, shard.NowMs);
                shard.Logger.LogInformation("Assignment received from leader {Leader} for group {Group} for generation {Generation}; group is Stable",
                    group.LeaderId, group.GroupId, generation);
            }
        }, TaskScheduler.Default);
    }

    public ErrorCode Heartbeat(string groupId, int generationId, string memberId, string? instanceId)
    {
        lock (shard.Lock)
        {
            if (shard.StatusError != ErrorCode.None) return shard.StatusError;
            var group = shard.FindClassicGroup(groupId);
            if (group is null) return ErrorCode.UnknownMemberId;
            if (group.State == ClassicGroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
            var error = ValidateMember(group, memberId, instanceId, generationId);
            if (error != ErrorCode.None) return error;
            TouchSession(group, group.Member(memberId)!);
            return group.State == ClassicGroupState.PreparingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }
    }

    /// <summary>FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION as Kafka checks them, in that order.</summary>
    internal static ErrorCode ValidateMember(ClassicGroup group, string memberId, string? instanceId, int generationId)
    {
        if (group.State == ClassicGroupState.Empty) return ErrorCode.UnknownMemberId;
        if (instanceId is not null && group.StaticMemberId(instanceId) is { } current && current != memberId) return ErrorCode.FencedInstanceId;
        if (!group.Has(memberId)) return ErrorCode.UnknownMemberId;
        if (generationId != group.GenerationId) return ErrorCode.IllegalGeneration;
        return ErrorCode.None;
    }

    /// <summary>LeaveGroup: per member, NONE, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID; the first element is the request-level error.</summary>
    public (ErrorCode Error, List<ErrorCode> Members) Leave(string groupId, IReadOnlyList<(string MemberId, string? InstanceId)> members)
    {
        lock (shard.Lock)
        {
            if (shard.StatusError != ErrorCode.None) return (shard.StatusError, []);
            var group = shard.FindClassicGroup(groupId);
            if (group is null || group.State == ClassicGroupState.Dead)
                return (ErrorCode.None, members.Select(_ => ErrorCode.UnknownMemberId).ToList());
            var results = new List<ErrorCode>();
            foreach (var (memberId, instanceId) in members)
            {
                string targetId = memberId;
                if (instanceId is not null)
                {
                    var current = group.StaticMemberId(instanceId);
                    if (current is null) { results.Add(ErrorCode.UnknownMemberId); continue; }
                    if (memberId.Length > 0 && memberId != current) { results.Add(ErrorCode.FencedInstanceId); continue; }
                    targetId = current;
                }
                if (group.PendingMembers.Remove(targetId))
                {
                    results.Add(ErrorCode.None);
                    MaybeCompleteJoin(group);
                    continue;
                }
                var member = group.Member(targetId);
                if (member is null) { results.Add(ErrorCode.UnknownMemberId); continue; }
                RemoveMember(group, member, "left the group", rebalance: true);
                results.Add(ErrorCode.None);
            }
            return (ErrorCode.None, results);
        }
    }

    private void RemoveMember(ClassicGroup group, ClassicGroupMember member, string reason, bool rebalance)
    {
        shard.Logger.LogInformation("Member {Member} of group {Group} {Reason}", member.MemberId, group.GroupId, reason);
        member.SessionTimer?.Dispose();
        member.AwaitingJoin?.TrySetResult(new JoinGroupResult(ErrorCode.UnknownMemberId, member.MemberId));
        member.AwaitingSync?.TrySetResult(new SyncGroupResult(ErrorCode.UnknownMemberId, []));
        member.AwaitingJoin = null;
        member.AwaitingSync = null;
        group.Remove(member.MemberId);
        if (!rebalance) return;
        switch (group.State)
        {
            case ClassicGroupState.Stable or ClassicGroupState.CompletingRebalance:
                PrepareRebalance(group, $"member {member.MemberId} {reason}");
                break;
            case ClassicGroupState.PreparingRebalance:
                MaybeCompleteJoin(group);
                break;
        }
    }

    /// <summary>Pushes back the member's session expiry. Members waiting on a join or sync are kept alive (Kafka's shouldKeepAlive).</summary>
    internal void TouchSession(ClassicGroup group, ClassicGroupMember member)
    {
        member.SessionTimer?.Dispose();
        member.SessionTimer = shard.Schedule(TimeSpan.FromMilliseconds(member.SessionTimeoutMs), () =>
        {
            if (group.Member(member.MemberId) != member) return;
            if (member.AwaitingJoin is not null || member.AwaitingSync is not null)
            {
                TouchSession(group, member);
                return;
            }
            RemoveMember(group, member, "session expired", rebalance: true);
        });
    }

    /// <summary>The group is deleted or the shard closes: waiting members are answered, timers stop.</summary>
    internal void MarkDead(ClassicGroup group, ErrorCode error = ErrorCode.CoordinatorNotAvailable)
    {
        group.JoinTimer?.Dispose();
        group.SyncTimer?.Dispose();
        foreach (var m in group.Members)
        {
            m.SessionTimer?.Dispose();
            m.AwaitingJoin?.TrySetResult(new JoinGroupResult(error, m.MemberId));
            m.AwaitingSync?.TrySetResult(new SyncGroupResult(error, []));
        }
        group.TransitionTo(ClassicGroupState.Dead, NowMs);
    }

    private static TaskCompletionSource<JoinGroupResult> NewJoin() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static Task<JoinGroupResult> Done(ErrorCode error, string memberId) => Task.FromResult(new JoinGroupResult(error, memberId));

    private static Task<SyncGroupResult> Sync(ErrorCode error) => Task.FromResult(new SyncGroupResult(error, []));
}
