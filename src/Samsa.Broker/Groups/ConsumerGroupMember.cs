namespace Samsa.Broker.Groups;

/// <summary>A partition named by topic id, as the KIP-848 protocol and its records name partitions.</summary>
public readonly record struct TopicIdPartition(Guid TopicId, int Partition);

/// <summary>A topic as a consumer group's subscription metadata records it (ConsumerGroupPartitionMetadata).</summary>
public sealed record ConsumerGroupTopic(Guid TopicId, string Name, int NumPartitions);

/// <summary>Kafka's MemberState of a consumer group member; the values are those of the persisted record.</summary>
public enum ConsumerMemberState : sbyte
{
    /// <summary>The member owns its target assignment at the assignment epoch.</summary>
    Stable = 0,

    /// <summary>The member must revoke partitions before it may advance to the next epoch.</summary>
    UnrevokedPartitions = 1,

    /// <summary>The member is at the assignment epoch but waits for partitions that others still own.</summary>
    UnreleasedPartitions = 2,
}

/// <summary>
/// A member of a KIP-848 consumer group: its subscription (ConsumerGroupMemberMetadata) and its current assignment
/// (ConsumerGroupCurrentMemberAssignment). Owned by its group's shard; accessed under the shard lock only.
/// Invariant: <see cref="Assigned"/> and <see cref="PendingRevocation"/> are disjoint, and across the members of a
/// group no partition appears twice in either set (the group's owner map enforces it).
/// </summary>
public sealed class ConsumerGroupMember(string memberId)
{
    /// <summary>Epoch -2: a static member that left temporarily (KIP-345 semantics in KIP-848) and keeps its assignment.</summary>
    public const int LeftStaticEpoch = -2;

    public string MemberId { get; } = memberId;
    public string? InstanceId { get; set; }
    public string? RackId { get; set; }
    public string ClientId { get; set; } = "";
    public string ClientHost { get; set; } = "";
    public IReadOnlyList<string> SubscribedTopicNames { get; set; } = [];
    public string? SubscribedTopicRegex { get; set; }
    public int RebalanceTimeoutMs { get; set; } = -1;
    public string? ServerAssignor { get; set; }

    public int MemberEpoch { get; set; }
    public int PreviousMemberEpoch { get; set; } = -1;
    public ConsumerMemberState State { get; set; } = ConsumerMemberState.Stable;
    public IReadOnlySet<TopicIdPartition> Assigned { get; set; } = new HashSet<TopicIdPartition>();
    public IReadOnlySet<TopicIdPartition> PendingRevocation { get; set; } = new HashSet<TopicIdPartition>();

    /// <summary>Removes the member when no heartbeat arrives within group.consumer.session.timeout.ms.</summary>
    public ITimer? SessionTimer { get; set; }

    /// <summary>Fences the member when it does not revoke within its rebalance timeout.</summary>
    public ITimer? RevocationTimer { get; set; }

    public void DisposeTimers()
    {
        SessionTimer?.Dispose();
        RevocationTimer?.Dispose();
        SessionTimer = null;
        RevocationTimer = null;
    }
}
