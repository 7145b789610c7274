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
        if (group is ConsumerGroup consumer) return OfConsumerGroup(consumer);
        if (group is not ClassicGroup classic)
            return new(group.GroupId, group.StateName, group.ProtocolType, "", []);
        bool stable = classic.State == ClassicGroupState.Stable;
        var members = classic.Members.Select(m => new GroupMemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
            stable ? m.MetadataFor(classic.ProtocolName!) ?? [] : [], stable ? m.Assignment : [])).ToList();
        return new(classic.GroupId, classic.StateName, classic.ProtocolType, stable ? classic.ProtocolName ?? "" : "", members);
    }

    /// <summary>
    /// A KIP-848 group through DescribeGroups (Kafka answers Dead; Samsa describes it so classic tools see it): members
    /// with their current assignment in the classic ConsumerProtocol Assignment v0 encoding, no subscription metadata.
    /// </summary>
    private static GroupDescription OfConsumerGroup(ConsumerGroup group)
    {
        var names = group.SubscriptionMetadata.Values.ToDictionary(t => t.TopicId, t => t.Name);
        var members = group.Members.Select(m => new GroupMemberDescription(m.MemberId, m.InstanceId, m.ClientId, m.ClientHost, [],
            EncodeAssignment(m.Assigned, names))).ToList();
        return new(group.GroupId, group.StateName, group.ProtocolType, group.AssignorName("uniform"), members);
    }

    private static byte[] EncodeAssignment(IReadOnlySet<TopicIdPartition> assigned, Dictionary<Guid, string> names)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        var writer = new Samsa.Protocol.Serialization.KafkaWriter(buffer);
        var topics = assigned.Where(p => names.ContainsKey(p.TopicId)).GroupBy(p => names[p.TopicId]).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        writer.WriteInt16(0);
        writer.WriteInt32(topics.Count);
        foreach (var topic in topics)
        {
            writer.WriteString(topic.Key);
            writer.WriteInt32(topic.Count());
            foreach (var p in topic.OrderBy(p => p.Partition)) writer.WriteInt32(p.Partition);
        }
        writer.WriteInt32(-1);
        return buffer.WrittenSpan.ToArray();
    }
}
