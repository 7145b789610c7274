namespace Samsa.Broker.Security;

/// <summary>Kafka's ACL resource types (wire values).</summary>
public enum ResourceType : sbyte
{
    Unknown = 0,
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
}

/// <summary>Kafka's ACL operations (wire values).</summary>
public enum AclOperation : sbyte
{
    Unknown = 0,
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
}

/// <summary>The authenticated identity of a connection, as Kafka's KafkaPrincipal ("User:alice").</summary>
public sealed record KafkaPrincipal(string Type, string Name)
{
    public static readonly KafkaPrincipal Anonymous = new("User", "ANONYMOUS");

    // "Type:Name" is what ACLs and super.users name; built once so authorization compares strings without allocating.
    private readonly string _text = $"{Type}:{Name}";

    public override string ToString() => _text;

    public bool Equals(KafkaPrincipal? other) => other is not null && Type == other.Type && Name == other.Name;

    public override int GetHashCode() => HashCode.Combine(Type, Name);
}

/// <summary>
/// The authorize step every handler calls before acting on a resource. <see cref="AllowAllAuthorizer"/> is Kafka with
/// no authorizer configured; <see cref="Authorization.AclAuthorizer"/> is the ACL authorizer (Kafka's StandardAuthorizer).
/// Implementations are called concurrently from every connection and must not block.
/// </summary>
public interface IAuthorizer
{
    /// <summary>False when no authorizer is configured: the ACL APIs then answer SECURITY_DISABLED.</summary>
    bool SupportsAcls { get; }

    bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType, string resourceName);

    /// <summary>
    /// Kafka's Authorizer.authorizeByResourceType: whether the principal may perform the operation on at least one
    /// resource of the type (e.g. WRITE on some topic lets a producer be idempotent, KIP-679).
    /// </summary>
    bool AuthorizeByResourceType(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType);
}

public sealed class AllowAllAuthorizer : IAuthorizer
{
    public static readonly AllowAllAuthorizer Instance = new();

    public bool SupportsAcls => false;

    public bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType, string resourceName) => true;

    public bool AuthorizeByResourceType(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType) => true;
}
