using System.Text.RegularExpressions;

namespace Samsa.Broker.Groups;

/// <summary>
/// A KIP-848 consumer group as Kafka's ConsumerGroup: the group epoch (bumped on any change of membership,
/// subscriptions or subscribed topics' metadata), the target assignment and its epoch, the members with their current
/// assignments, and which member owns each partition (assigned or pending revocation). Owned by its shard and accessed
/// under the shard lock only; transitions live in <see cref="ConsumerGroupCoordinator"/>.
/// State: Empty (no members), Assigning (target older than the group epoch), Reconciling (some member not yet at the
/// target), Stable.
/// </summary>
public sealed class ConsumerGroup(string groupId) : IGroup
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);
    private readonly Dictionary<string, ConsumerGroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _staticMembers = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicIdPartition, string> _owners = [];
    private readonly Dictionary<string, Regex> _regexes = new(StringComparer.Ordinal);

    public string GroupId { get; } = groupId;
    public string GroupType => "consumer";
    public string ProtocolType => "consumer";
    public int GroupEpoch { get; set; }
    public int AssignmentEpoch { get; set; }
    public bool IsEmpty => _members.Count == 0;
    public IReadOnlyCollection<ConsumerGroupMember> Members => _members.Values;

    /// <summary>Target assignment per member id (ConsumerGroupTargetAssignmentMember records).</summary>
    public Dictionary<string, IReadOnlySet<TopicIdPartition>> TargetAssignment { get; } = new(StringComparer.Ordinal);

    /// <summary>Metadata of every subscribed topic that exists, by name (ConsumerGroupPartitionMetadata record).</summary>
    public IReadOnlyDictionary<string, ConsumerGroupTopic> SubscriptionMetadata { get; set; } =
        new Dictionary<string, ConsumerGroupTopic>(StringComparer.Ordinal);

    public string StateName
    {
        get
        {
            if (_members.Count == 0) return "Empty";
            if (GroupEpoch > AssignmentEpoch) return "Assigning";
            foreach (var m in _members.Values)
                if (m.MemberEpoch != AssignmentEpoch || m.State != ConsumerMemberState.Stable) return "Reconciling";
            return "Stable";
        }
    }

    public ConsumerGroupMember? Member(string memberId) => _members.GetValueOrDefault(memberId);

    public ConsumerGroupMember? StaticMember(string instanceId) =>
        _staticMembers.TryGetValue(instanceId, out var id) ? _members.GetValueOrDefault(id) : null;

    public bool IsSubscribedTo(string topic) => _members.Values.Any(m => SubscribesTo(m, topic));

    public bool SubscribesTo(ConsumerGroupMember member, string topic) =>
        member.SubscribedTopicNames.Contains(topic, StringComparer.Ordinal) ||
        (member.SubscribedTopicRegex is { } regex && Matches(regex, topic));

    /// <summary>Kafka matches SubscribedTopicRegex against the whole name (RE2/J); internal topics never match.</summary>
    public bool Matches(string regex, string topic)
    {
        if (topic.StartsWith("__", StringComparison.Ordinal)) return false;
        if (!_regexes.TryGetValue(regex, out var compiled))
            _regexes[regex] = compiled = new Regex("^(?:" + regex + ")$", RegexOptions.CultureInvariant, RegexTimeout);
        try
        {
            return compiled.IsMatch(topic);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>The owner of a partition (assigned or pending revocation), or null when it is free.</summary>
    public string? Owner(TopicIdPartition partition) => _owners.GetValueOrDefault(partition);

    public void AddMember(ConsumerGroupMember member)
    {
        _members[member.MemberId] = member;
        if (member.InstanceId is { } instance) _staticMembers[instance] = member.MemberId;
        foreach (var p in member.Assigned.Concat(member.PendingRevocation)) _owners[p] = member.MemberId;
    }

    public void RemoveMember(string memberId)
    {
        if (!_members.Remove(memberId, out var member)) return;
        member.DisposeTimers();
        if (member.InstanceId is { } instance && _staticMembers.GetValueOrDefault(instance) == memberId) _staticMembers.Remove(instance);
        ReleaseAll(member);
        TargetAssignment.Remove(memberId);
    }

    public void SetInstanceId(ConsumerGroupMember member, string? instanceId)
    {
        if (member.InstanceId == instanceId) return;
        if (member.InstanceId is { } old && _staticMembers.GetValueOrDefault(old) == member.MemberId) _staticMembers.Remove(old);
        member.InstanceId = instanceId;
        if (instanceId is not null) _staticMembers[instanceId] = member.MemberId;
    }

    /// <summary>
    /// Replaces a member's current assignment, keeping the owner map exact. Throws if a partition would get two owners,
    /// unless <paramref name="replaying"/> (records replayed in log order; the last writer wins).
    /// </summary>
    public void SetCurrentAssignment(ConsumerGroupMember member, IReadOnlySet<TopicIdPartition> assigned, IReadOnlySet<TopicIdPartition> pending,
        bool replaying = false)
    {
        foreach (var p in assigned.Concat(pending))
            if (!replaying && _owners.TryGetValue(p, out var owner) && owner != member.MemberId)
                throw new InvalidOperationException($"Partition {p} of group {GroupId} is owned by {owner}; cannot give it to {member.MemberId}");
        ReleaseAll(member);
        member.Assigned = assigned;
        member.PendingRevocation = pending;
        if (_members.ContainsKey(member.MemberId))
            foreach (var p in assigned.Concat(pending)) _owners[p] = member.MemberId;
    }

    private void ReleaseAll(ConsumerGroupMember member)
    {
        foreach (var p in member.Assigned.Concat(member.PendingRevocation))
            if (_owners.GetValueOrDefault(p) == member.MemberId) _owners.Remove(p);
    }

    /// <summary>
    /// The server assignor of the group as Kafka picks it: the one most members ask for (ties by name), else the
    /// default (the first of group.consumer.assignors).
    /// </summary>
    public string AssignorName(string defaultAssignor) =>
        _members.Values.Where(m => m.ServerAssignor is not null)
            .GroupBy(m => m.ServerAssignor!, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).FirstOrDefault() ?? defaultAssignor;

    /// <summary>Topic names a member subscribes to that exist in the subscription metadata.</summary>
    public IEnumerable<ConsumerGroupTopic> SubscribedTopics(ConsumerGroupMember member) =>
        SubscriptionMetadata.Values.Where(t => SubscribesTo(member, t.Name));
}
