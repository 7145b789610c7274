namespace Samsa.Broker.Groups;

public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost,
    byte[] Metadata, byte[] Assignment);

/// <summary>A consistent snapshot of a group for DescribeGroups (taken under the shard lock).</summary>
public sealed record GroupDescription(string GroupId, string State, string ProtocolType, string ProtocolData,
    IReadOnlyList<GroupMemberDescription> Members)
{
    /// <summary>
    /// As Kafka: in Stable, members carry their metadata for the selected protocol and their assignment; in other
    /// states only their identity.
    /// </summary>
    public static GroupDescription Of(IGroup group)
    {
        if (group is not ClassicGroup classic)
            return new(group.GroupId, group.StateName, group.ProtocolType, "", []);
        bool stable = classic.State == ClassicGroupState.Stable;
        var members = classic.Members.Select(m => new GroupMemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
            stable ? m.MetadataFor(classic.ProtocolName!) ?? [] : [], stable ? m.Assignment : [])).ToList();
        return new(classic.GroupId, classic.StateName, classic.ProtocolType, stable ? classic.ProtocolName ?? "" : "", members);
    }
}
