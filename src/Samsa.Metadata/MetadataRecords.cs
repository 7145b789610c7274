using System.Text.Json.Serialization;

namespace Samsa.Metadata;

/// <summary>
/// One change to cluster metadata. The metadata log is a sequence of batches of these records;
/// replaying it from the start rebuilds the <see cref="MetadataImage"/> (KRaft's model). Records are
/// serialized as JSON with a "type" discriminator so the log stays readable by operators.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TopicRecord), "topic")]
[JsonDerivedType(typeof(PartitionRecord), "partition")]
[JsonDerivedType(typeof(PartitionChangeRecord), "partition-change")]
[JsonDerivedType(typeof(RemoveTopicRecord), "remove-topic")]
[JsonDerivedType(typeof(ConfigRecord), "config")]
[JsonDerivedType(typeof(ProducerIdsRecord), "producer-ids")]
[JsonDerivedType(typeof(RegisterBrokerRecord), "register-broker")]
[JsonDerivedType(typeof(BrokerRegistrationChangeRecord), "broker-registration-change")]
[JsonDerivedType(typeof(AccessControlEntryRecord), "acl")]
[JsonDerivedType(typeof(RemoveAccessControlEntryRecord), "remove-acl")]
[JsonDerivedType(typeof(ClientQuotaRecord), "client-quota")]
[JsonDerivedType(typeof(UserScramCredentialRecord), "user-scram-credential")]
[JsonDerivedType(typeof(RemoveUserScramCredentialRecord), "remove-user-scram-credential")]
public abstract record MetadataRecord;

public sealed record TopicRecord(string Name, Guid TopicId) : MetadataRecord;

/// <summary>A new partition with its replica assignment; LeaderEpoch and PartitionEpoch start at 0. Adding/Removing
/// replicas describe an ongoing reassignment (KIP-455; null = none), as Kafka's PartitionRecord.</summary>
public sealed record PartitionRecord(
    Guid TopicId, int PartitionId, int[] Replicas, int[] Isr, int Leader, int LeaderEpoch, int PartitionEpoch,
    int[]? AddingReplicas = null, int[]? RemovingReplicas = null) : MetadataRecord;

/// <summary>Leader, ISR, replica or reassignment change; null fields are unchanged (an empty Adding/Removing list ends
/// the reassignment). A leader change bumps the leader epoch.</summary>
public sealed record PartitionChangeRecord(
    Guid TopicId, int PartitionId, int? Leader, int[]? Isr, int[]? Replicas,
    int[]? AddingReplicas = null, int[]? RemovingReplicas = null) : MetadataRecord;

public sealed record RemoveTopicRecord(Guid TopicId) : MetadataRecord;

public enum ConfigResourceType : byte
{
    Unknown = 0,
    Topic = 2,
    Broker = 4,
    BrokerLogger = 8,
    ClientMetrics = 16,
    Group = 32,
}

/// <summary>Sets (or with a null value, removes) one dynamic config of a topic or broker.</summary>
public sealed record ConfigRecord(ConfigResourceType ResourceType, string ResourceName, string Name, string? Value) : MetadataRecord;

/// <summary>Hands the block [FirstProducerId, FirstProducerId + BlockSize) to a broker; blocks never overlap.</summary>
public sealed record ProducerIdsRecord(int BrokerId, long FirstProducerId, int BlockSize) : MetadataRecord;

public sealed record BrokerEndpoint(string Name, string Host, int Port, string SecurityProtocol);

/// <summary>A broker (re-)registers. In a cluster it starts fenced (no leadership, not in ISRs) until the controller
/// unfences it on a caught-up heartbeat; the single-node log registers it unfenced.</summary>
public sealed record RegisterBrokerRecord(int BrokerId, BrokerEndpoint[] Endpoints, string? Rack, Guid Incarnation, bool Fenced = false) : MetadataRecord;

/// <summary>Fences/unfences a broker or marks it in controlled shutdown (Kafka's Fence/UnfenceBrokerRecord and
/// BrokerRegistrationChangeRecord); null fields are unchanged.</summary>
public sealed record BrokerRegistrationChangeRecord(int BrokerId, bool? Fenced, bool? InControlledShutdown) : MetadataRecord;
