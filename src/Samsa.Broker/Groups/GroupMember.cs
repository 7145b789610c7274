namespace Samsa.Broker.Groups;

public readonly record struct ProtocolMetadata(string Name, byte[] Metadata);

/// <summary>A member of a classic group. Owned by its group's shard; accessed under the shard lock only.</summary>
public sealed class ClassicGroupMember(string memberId, string? groupInstanceId, string clientId, string clientHost,
    int rebalanceTimeoutMs, int sessionTimeoutMs, string protocolType, IReadOnlyList<ProtocolMetadata> protocols)
{
    public string MemberId { get; set; } = memberId;
    public string? GroupInstanceId { get; } = groupInstanceId;
    public string ClientId { get; set; } = clientId;
    public string ClientHost { get; set; } = clientHost;
    public int RebalanceTimeoutMs { get; set; } = rebalanceTimeoutMs;
    public int SessionTimeoutMs { get; set; } = sessionTimeoutMs;
    public string ProtocolType { get; set; } = protocolType;
    public IReadOnlyList<ProtocolMetadata> Protocols { get; set; } = protocols;
    public byte[] Assignment { get; set; } = [];

    /// <summary>Set while a JoinGroup of this member waits for the join phase to complete.</summary>
    public TaskCompletionSource<JoinGroupResult>? AwaitingJoin { get; set; }

    /// <summary>Set while a SyncGroup of this member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncGroupResult>? AwaitingSync { get; set; }

    /// <summary>Session expiry timer, pushed back by every heartbeat, join and sync.</summary>
    public ITimer? SessionTimer { get; set; }

    /// <summary>A member added by this rebalance that has not completed a join yet (Kafka's isNew).</summary>
    public bool IsNew { get; set; }

    public bool IsStatic => GroupInstanceId is not null;

    public byte[]? MetadataFor(string protocol)
    {
        foreach (var p in Protocols)
            if (p.Name == protocol) return p.Metadata;
        return null;
    }

    /// <summary>Same protocols, in the same order, with the same metadata bytes.</summary>
    public bool Matches(IReadOnlyList<ProtocolMetadata> protocols)
    {
        if (protocols.Count != Protocols.Count) return false;
        for (int i = 0; i < protocols.Count; i++)
            if (protocols[i].Name != Protocols[i].Name || !protocols[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata))
                return false;
        return true;
    }
}

public sealed record JoinGroupMemberInfo(string MemberId, string? GroupInstanceId, byte[] Metadata);

public sealed record JoinGroupResult(
    Protocol.ErrorCode Error, string MemberId, int GenerationId = -1, string? ProtocolType = null, string? ProtocolName = null,
    string LeaderId = "", IReadOnlyList<JoinGroupMemberInfo>? Members = null, bool SkipAssignment = false);

public sealed record SyncGroupResult(Protocol.ErrorCode Error, byte[] Assignment, string? ProtocolType = null, string? ProtocolName = null);
