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
    public override string ToString() => $"{Type}:{Name}";
}

/// <summary>
/// The authorize step every handler calls before acting on a resource. The security issue plugs an ACL
/// authorizer in here; until then every principal is allowed everything (Kafka with no authorizer configured).
/// </summary>
public interface IAuthorizer
{
    bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType, string resourceName);
}

public sealed class AllowAllAuthorizer : IAuthorizer
{
    public static readonly AllowAllAuthorizer Instance = new();

    public bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType, string resourceName) => true;
}
