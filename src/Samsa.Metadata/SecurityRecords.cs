using System.Collections.Immutable;

namespace Samsa.Metadata;

/// <summary>Kafka's ACL pattern types (wire values). ANY and MATCH only appear in filters.</summary>
public enum AclPatternType : sbyte
{
    Unknown = 0,
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
}

/// <summary>Kafka's ACL permission types (wire values). ANY only appears in filters.</summary>
public enum AclPermissionType : sbyte
{
    Unknown = 0,
    Any = 1,
    Deny = 2,
    Allow = 3,
}

/// <summary>
/// One ACL (Kafka's AccessControlEntryRecord): a resource pattern and an access control entry, identified by
/// <see cref="Id"/> so removal names exactly one ACL. ResourceType and Operation carry Kafka's wire values
/// (Samsa.Broker.Security.ResourceType / AclOperation); the metadata layer does not interpret them beyond the
/// "ANY" value (1) of filters.
/// </summary>
public sealed record AccessControlEntryRecord(
    Guid Id, sbyte ResourceType, string ResourceName, AclPatternType PatternType,
    string Principal, string Host, sbyte Operation, AclPermissionType PermissionType) : MetadataRecord
{
    /// <summary>Same binding (pattern and entry), ignoring the id.</summary>
    public bool SameBinding(AccessControlEntryRecord other) =>
        ResourceType == other.ResourceType && ResourceName == other.ResourceName && PatternType == other.PatternType &&
        Principal == other.Principal && Host == other.Host && Operation == other.Operation && PermissionType == other.PermissionType;
}

public sealed record RemoveAccessControlEntryRecord(Guid Id) : MetadataRecord;

/// <summary>
/// Kafka's AclBindingFilter: null strings and ANY (wire value 1) match everything. A MATCH pattern filter with a
/// name matches the ACLs that would apply to that resource: LITERAL of the same name, the LITERAL wildcard "*",
/// and PREFIXED patterns the name starts with.
/// </summary>
public sealed record AclBindingFilter(
    sbyte ResourceType, string? ResourceName, AclPatternType PatternType,
    string? Principal, string? Host, sbyte Operation, AclPermissionType PermissionType)
{
    public const sbyte AnyValue = 1;
    public const string Wildcard = "*";

    /// <summary>A filter with an UNKNOWN element matches nothing and is rejected (Kafka: INVALID_REQUEST).</summary>
    public bool IsUnknown => ResourceType == 0 || PatternType == AclPatternType.Unknown || Operation == 0 || PermissionType == AclPermissionType.Unknown;

    public bool Matches(AccessControlEntryRecord acl) => MatchesPattern(acl) && MatchesEntry(acl);

    private bool MatchesPattern(AccessControlEntryRecord acl)
    {
        if (ResourceType != AnyValue && ResourceType != acl.ResourceType) return false;
        if (PatternType is not (AclPatternType.Any or AclPatternType.Match) && PatternType != acl.PatternType) return false;
        if (ResourceName is null) return true;
        if (PatternType == AclPatternType.Any || PatternType == acl.PatternType) return ResourceName == acl.ResourceName;
        return acl.PatternType switch
        {
            AclPatternType.Literal => ResourceName == acl.ResourceName || acl.ResourceName == Wildcard,
            AclPatternType.Prefixed => ResourceName.StartsWith(acl.ResourceName, StringComparison.Ordinal),
            _ => false,
        };
    }

    private bool MatchesEntry(AccessControlEntryRecord acl) =>
        (Principal is null || Principal == acl.Principal) &&
        (Host is null || Host == acl.Host) &&
        (Operation == AnyValue || Operation == acl.Operation) &&
        (PermissionType == AclPermissionType.Any || PermissionType == acl.PermissionType);
}

/// <summary>One part of a client quota entity: type "user", "client-id" or "ip"; a null name is the default entity.</summary>
public sealed record ClientQuotaEntityPart(string EntityType, string? EntityName);

/// <summary>Sets (or with a null value, removes) one quota (producer_byte_rate, ...) of a client quota entity.</summary>
public sealed record ClientQuotaRecord(ClientQuotaEntityPart[] Entity, string Key, double? Value) : MetadataRecord;

/// <summary>A name within a quota entity; <c>Name == null</c> is Kafka's default entity (&lt;default&gt;).</summary>
public readonly record struct QuotaEntityName(string? Name)
{
    public bool IsDefault => Name is null;
    public override string ToString() => Name ?? "<default>";
}

/// <summary>
/// A client quota entity: any combination of user, client-id and ip parts (a null part is absent). Value equality
/// makes it a dictionary key of the image.
/// </summary>
public readonly record struct ClientQuotaEntity(QuotaEntityName? User, QuotaEntityName? ClientId, QuotaEntityName? Ip)
{
    public const string UserType = "user";
    public const string ClientIdType = "client-id";
    public const string IpType = "ip";

    /// <summary>Builds the entity from its parts; null when a type is unknown or repeated.</summary>
    public static ClientQuotaEntity? FromParts(IEnumerable<ClientQuotaEntityPart> parts)
    {
        QuotaEntityName? user = null, clientId = null, ip = null;
        foreach (var part in parts)
        {
            var name = new QuotaEntityName(part.EntityName);
            switch (part.EntityType)
            {
                case UserType when user is null: user = name; break;
                case ClientIdType when clientId is null: clientId = name; break;
                case IpType when ip is null: ip = name; break;
                default: return null;
            }
        }
        return user is null && clientId is null && ip is null ? null : new ClientQuotaEntity(user, clientId, ip);
    }

    public ClientQuotaEntityPart[] ToParts()
    {
        var parts = new List<ClientQuotaEntityPart>(3);
        if (User is { } u) parts.Add(new(UserType, u.Name));
        if (ClientId is { } c) parts.Add(new(ClientIdType, c.Name));
        if (Ip is { } i) parts.Add(new(IpType, i.Name));
        return [.. parts];
    }

    public override string ToString() => string.Join(", ", ToParts().Select(p => $"{p.EntityType}={p.EntityName ?? "<default>"}"));
}

/// <summary>The ACL and client-quota state of <see cref="MetadataImage"/>.</summary>
public sealed partial record MetadataImage
{
    /// <summary>Every ACL by id. The broker's authorizer indexes this map; a new map means ACLs changed.</summary>
    public ImmutableDictionary<Guid, AccessControlEntryRecord> Acls { get; init; } = ImmutableDictionary<Guid, AccessControlEntryRecord>.Empty;

    /// <summary>Client quotas (producer_byte_rate, consumer_byte_rate, request_percentage, ...) per entity.</summary>
    public ImmutableDictionary<ClientQuotaEntity, ImmutableDictionary<string, double>> ClientQuotas { get; init; } =
        ImmutableDictionary<ClientQuotaEntity, ImmutableDictionary<string, double>>.Empty;

    private MetadataImage ApplyClientQuota(ClientQuotaRecord q)
    {
        var entity = ClientQuotaEntity.FromParts(q.Entity) ?? throw new InvalidOperationException("Invalid client quota entity.");
        var current = ClientQuotas.GetValueOrDefault(entity) ?? ImmutableDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);
        current = q.Value is { } v ? current.SetItem(q.Key, v) : current.Remove(q.Key);
        return this with { ClientQuotas = current.IsEmpty ? ClientQuotas.Remove(entity) : ClientQuotas.SetItem(entity, current) };
    }
}
