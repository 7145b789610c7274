using System.Text.Json;

namespace Samsa.Metadata.Quorum;

/// <summary>
/// A metadata image written as the records that rebuild it (KRaft's snapshot model), with the offset it stands for.
/// Used for Raft snapshots and for broker-only nodes that fall behind the controllers' recent-batch window.
/// Invariant: <c>Empty.Apply(ToRecords(image))</c> equals <paramref name="image"/> in every field; any state added
/// to <see cref="MetadataImage"/> must be emitted here (MetadataSnapshotTests checks the round trip).
/// </summary>
public sealed record MetadataSnapshot(long Offset, MetadataRecord[] Records)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static MetadataSnapshot Of(MetadataImage image) => new(image.Offset, ToRecords(image));

    public MetadataImage ToImage() => (Records.Length == 0 ? MetadataImage.Empty : MetadataImage.Empty.Apply(Records)) with { Offset = Offset };

    public static MetadataRecord[] ToRecords(MetadataImage image)
    {
        var records = new List<MetadataRecord>();
        foreach (var broker in image.Brokers.Values.OrderBy(b => b.BrokerId))
        {
            records.Add(new RegisterBrokerRecord(broker.BrokerId, [.. broker.Endpoints], broker.Rack, broker.Incarnation, broker.Fenced));
            if (broker.InControlledShutdown) records.Add(new BrokerRegistrationChangeRecord(broker.BrokerId, null, true));
        }
        foreach (var topic in image.TopicsById.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            records.Add(new TopicRecord(topic.Name, topic.TopicId));
            foreach (var p in topic.Partitions)
                records.Add(new PartitionRecord(topic.TopicId, p.PartitionId, [.. p.Replicas], [.. p.Isr], p.Leader, p.LeaderEpoch, p.PartitionEpoch,
                    p.AddingReplicas.IsEmpty ? null : [.. p.AddingReplicas], p.RemovingReplicas.IsEmpty ? null : [.. p.RemovingReplicas]));
        }
        foreach (var ((type, name), configs) in image.Configs)
            foreach (var (key, value) in configs)
                records.Add(new ConfigRecord(type, name, key, value));
        foreach (var acl in image.Acls.Values.OrderBy(a => a.Id)) records.Add(acl);
        foreach (var (entity, quotas) in image.ClientQuotas)
            foreach (var (key, value) in quotas)
                records.Add(new ClientQuotaRecord(entity.ToParts(), key, value));
        foreach (var ((user, mechanism), credential) in image.ScramCredentials.OrderBy(c => c.Key.User, StringComparer.Ordinal))
            records.Add(new UserScramCredentialRecord(user, mechanism, credential.Salt, credential.StoredKey, credential.ServerKey, credential.Iterations));
        if (image.NextProducerId > 0) records.Add(new ProducerIdsRecord(-1, image.NextProducerId, 0));
        return [.. records];
    }

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static MetadataSnapshot Deserialize(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<MetadataSnapshot>(json, Json) ?? throw new JsonException("Empty metadata snapshot.");

    public static byte[] SerializeBatch(IReadOnlyList<MetadataRecord> batch) => JsonSerializer.SerializeToUtf8Bytes(batch.ToArray(), Json);

    public static MetadataRecord[] DeserializeBatch(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<MetadataRecord[]>(json, Json) ?? throw new JsonException("Empty metadata batch.");
}
