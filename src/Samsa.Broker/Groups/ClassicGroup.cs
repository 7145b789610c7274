using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Groups;

public enum ClassicGroupState
{
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

/// <summary>
/// A classic-protocol group (JoinGroup/SyncGroup) as Kafka's ClassicGroup: members, pending members (KIP-394),
/// static members by instance id (KIP-345), generation and selected protocol. Owned by its shard and accessed under
/// the shard lock only. State transitions live in <see cref="ClassicGroupCoordinator"/>.
/// </summary>
public sealed class ClassicGroup(string groupId, long createdMs) : IGroup
{
    private readonly Dictionary<string, ClassicGroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _staticMembers = new(StringComparer.Ordinal);

    public string GroupId { get; } = groupId;
    public string GroupType => "classic";
    public ClassicGroupState State { get; private set; } = ClassicGroupState.Empty;
    public string StateName => State.ToString();
    public string ProtocolType { get; set; } = "";
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }
    public int GenerationId { get; set; }
    public bool IsEmpty => _members.Count == 0;

    /// <summary>When the group entered its current state (GroupMetadataValue.currentStateTimestamp; base of expiry when Empty).</summary>
    public long CurrentStateTimestamp { get; private set; } = createdMs;

    public IReadOnlyCollection<ClassicGroupMember> Members => _members.Values;
    public int MemberCount => _members.Count;

    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet (KIP-394).</summary>
    public HashSet<string> PendingMembers { get; } = new(StringComparer.Ordinal);

    /// <summary>Members that got a join response for the current generation but have not synced yet.</summary>
    public HashSet<string> PendingSyncMembers { get; } = new(StringComparer.Ordinal);

    /// <summary>Completes the join phase when it fires (rebalance timeout or initial delay).</summary>
    public ITimer? JoinTimer { get; set; }

    /// <summary>Removes members that have not synced within the rebalance timeout.</summary>
    public ITimer? SyncTimer { get; set; }

    /// <summary>The join phase may not complete before this time (group.initial.rebalance.delay.ms for a new group).</summary>
    public long InitialDelayDeadlineMs { get; set; }

    public void TransitionTo(ClassicGroupState state, long nowMs)
    {
        State = state;
        CurrentStateTimestamp = nowMs;
    }

    public bool Has(string memberId) => _members.ContainsKey(memberId);

    public ClassicGroupMember? Member(string memberId) => _members.GetValueOrDefault(memberId);

    public string? StaticMemberId(string instanceId) => _staticMembers.GetValueOrDefault(instanceId);

    public bool IsLeader(string memberId) => LeaderId == memberId;

    public void Add(ClassicGroupMember member)
    {
        if (_members.Count == 0) ProtocolType = member.ProtocolType; // an empty group takes the first member's type, as Kafka
        _members[member.MemberId] = member;
        if (member.GroupInstanceId is { } instance) _staticMembers[instance] = member.MemberId;
        LeaderId ??= member.MemberId;
    }

    public void Remove(string memberId)
    {
        if (!_members.Remove(memberId, out var member)) return;
        if (member.GroupInstanceId is { } instance && _staticMembers.GetValueOrDefault(instance) == memberId)
            _staticMembers.Remove(instance);
        PendingSyncMembers.Remove(memberId);
        if (LeaderId == memberId)
            LeaderId = _members.Values.FirstOrDefault(m => m.AwaitingJoin is not null)?.MemberId ?? _members.Keys.FirstOrDefault();
    }

    /// <summary>Gives a static member a new member id (KIP-345 rejoin with an unknown member id).</summary>
    public void ReplaceStaticMember(ClassicGroupMember member, string newMemberId)
    {
        string oldId = member.MemberId;
        _members.Remove(oldId);
        member.MemberId = newMemberId;
        _members[newMemberId] = member;
        _staticMembers[member.GroupInstanceId!] = newMemberId;
        if (LeaderId == oldId) LeaderId = newMemberId;
        if (PendingSyncMembers.Remove(oldId)) PendingSyncMembers.Add(newMemberId);
    }

    public int AwaitingJoinCount => _members.Values.Count(m => m.AwaitingJoin is not null);

    public bool AllMembersJoined => AwaitingJoinCount == _members.Count && PendingMembers.Count == 0;

    /// <summary>Largest rebalance timeout of the members: the join phase waits at most this long.</summary>
    public int RebalanceTimeoutMs => _members.Count == 0 ? 0 : _members.Values.Max(m => m.RebalanceTimeoutMs);

    /// <summary>Protocols every member supports.</summary>
    public HashSet<string> CandidateProtocols()
    {
        HashSet<string>? common = null;
        foreach (var m in _members.Values)
        {
            var names = m.Protocols.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            if (common is null) common = names;
            else common.IntersectWith(names);
        }
        return common ?? [];
    }

    /// <summary>Whether a member with these protocols may join (Kafka's supportsProtocols).</summary>
    public bool SupportsProtocols(string protocolType, IReadOnlyList<ProtocolMetadata> protocols)
    {
        if (_members.Count == 0) return protocolType.Length > 0 && protocols.Count > 0;
        if (protocolType != ProtocolType) return false;
        var candidates = CandidateProtocols();
        return protocols.Any(p => candidates.Contains(p.Name));
    }

    /// <summary>
    /// The protocol of the next generation: among the protocols every member supports, the one most members prefer
    /// (each member votes for the first candidate in its own preference order); ties go to the earliest member's choice.
    /// </summary>
    public string SelectProtocol()
    {
        var candidates = CandidateProtocols();
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var m in _members.Values)
        {
            string? vote = m.Protocols.Select(p => p.Name).FirstOrDefault(candidates.Contains);
            if (vote is null) continue;
            if (!votes.TryAdd(vote, 1)) votes[vote]++;
            if (!order.Contains(vote)) order.Add(vote);
        }
        if (order.Count == 0) throw new InvalidOperationException($"Group {GroupId} has no protocol common to all members.");
        return order.OrderByDescending(p => votes[p]).First();
    }

    public bool IsSubscribedTo(string topic)
    {
        if (ProtocolType != "consumer" || ProtocolName is null) return false;
        foreach (var m in _members.Values)
        {
            var metadata = m.MetadataFor(ProtocolName);
            if (metadata is not null && SubscribedTopics(metadata).Contains(topic)) return true;
        }
        return false;
    }

    /// <summary>The topics of a ConsumerProtocolSubscription (int16 version prefix, then the schema); empty when unreadable.</summary>
    public static IReadOnlyList<string> SubscribedTopics(byte[] metadata)
    {
        try
        {
            var reader = new KafkaReader(metadata);
            short version = Math.Min(reader.ReadInt16(), (short)3);
            if (version < 0) return [];
            return MessageCodec.Read<ConsumerProtocolSubscription>(reader, version).Topics;
        }
        catch (Exception e) when (e is Samsa.Protocol.Serialization.ProtocolException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return [];
        }
    }

    /// <summary>The GroupMetadataValue persisting this group (assignments of the current generation included).</summary>
    public GroupMetadataValue ToRecord() => new()
    {
        ProtocolType = ProtocolType,
        Generation = GenerationId,
        Protocol = ProtocolName,
        Leader = LeaderId,
        CurrentStateTimestamp = CurrentStateTimestamp,
        Members = _members.Values.Select(m => new GroupMetadataValue.MemberMetadata
        {
            MemberId = m.MemberId,
            GroupInstanceId = m.GroupInstanceId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            RebalanceTimeout = m.RebalanceTimeoutMs,
            SessionTimeout = m.SessionTimeoutMs,
            Subscription = ProtocolName is null ? [] : m.MetadataFor(ProtocolName) ?? [],
            Assignment = m.Assignment,
        }).ToList(),
    };

    /// <summary>Rebuilds a group from its last GroupMetadataValue: Empty without members, Stable with them.</summary>
    public static ClassicGroup FromRecord(string groupId, GroupMetadataValue value, long nowMs)
    {
        var group = new ClassicGroup(groupId, value.CurrentStateTimestamp >= 0 ? value.CurrentStateTimestamp : nowMs)
        {
            ProtocolType = value.ProtocolType,
            GenerationId = value.Generation,
            ProtocolName = value.Protocol,
        };
        foreach (var m in value.Members)
        {
            var protocols = value.Protocol is null ? [] : new[] { new ProtocolMetadata(value.Protocol, m.Subscription) };
            group.Add(new ClassicGroupMember(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                m.RebalanceTimeout, m.SessionTimeout, value.ProtocolType, protocols) { Assignment = m.Assignment });
        }
        group.LeaderId = value.Leader is not null && group.Has(value.Leader) ? value.Leader : group.LeaderId;
        group.State = group.IsEmpty ? ClassicGroupState.Empty : ClassicGroupState.Stable;
        return group;
    }
}
