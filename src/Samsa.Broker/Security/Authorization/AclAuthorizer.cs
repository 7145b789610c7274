using Microsoft.Extensions.Logging;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authorization;

/// <summary>
/// The ACL authorizer, with the semantics of Kafka's StandardAuthorizer:
/// <list type="bullet">
/// <item>super.users are allowed everything;</item>
/// <item>the ACLs that apply to a resource are the LITERAL ACLs of its name, the LITERAL wildcard "*", and the PREFIXED
/// ACLs whose prefix starts the name; an entry applies to the principal when it names it or User:*, and to the host
/// when it names the client's address or *;</item>
/// <item>a DENY that applies (same operation or ALL) wins over any ALLOW; an ALLOW of READ, WRITE, DELETE or ALTER
/// implies DESCRIBE and an ALLOW of ALTER_CONFIGS implies DESCRIBE_CONFIGS;</item>
/// <item>a resource with no ACL at all is allowed only with allow.everyone.if.no.acl.found.</item>
/// </list>
/// ACLs live in the metadata image (AccessControlEntryRecord); the index is rebuilt when the image's ACL map changes,
/// so every broker sees ACLs as they replicate. Thread-safe and lock-free on the request path.
/// </summary>
public sealed class AclAuthorizer : IAuthorizer
{
    /// <summary>authorizer.class.name values that select this authorizer (Kafka's KRaft and ZooKeeper authorizers).</summary>
    public static readonly IReadOnlyList<string> ClassNames =
        ["org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"];

    private const string WildcardPrincipal = "User:*";
    private const string Wildcard = "*";

    private readonly IMetadataLog _metadata;
    private readonly HashSet<string> _superUsers;
    private readonly bool _allowEveryoneIfNoAclFound;
    private readonly ILogger _logger;
    private volatile AclIndex _index;

    public AclAuthorizer(IMetadataLog metadata, IEnumerable<string> superUsers, bool allowEveryoneIfNoAclFound, ILogger logger)
    {
        _metadata = metadata;
        _superUsers = new HashSet<string>(superUsers, StringComparer.Ordinal);
        _allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound;
        _logger = logger;
        _index = AclIndex.Build(metadata.Image.Acls);
    }

    public bool SupportsAcls => true;

    /// <summary>Parses super.users: "User:alice;User:bob" (Kafka's separator), or comma separated when there is no ';'.</summary>
    public static IReadOnlyList<string> ParseSuperUsers(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return [];
        char separator = value.Contains(';', StringComparison.Ordinal) ? ';' : ',';
        return [.. value.Split(separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
    }

    public bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType, string resourceName)
    {
        string who = principal.ToString();
        if (_superUsers.Contains(who)) return true;
        var acls = Current().For(resourceType);
        bool found = false, allowed = false;
        if (acls is not null)
        {
            if (Check(acls.Literal(resourceName), who, host, operation, ref found, ref allowed)) return Denied(principal, host, operation, resourceType, resourceName);
            if (resourceName != Wildcard && Check(acls.Literal(Wildcard), who, host, operation, ref found, ref allowed))
                return Denied(principal, host, operation, resourceType, resourceName);
            foreach (int length in acls.PrefixLengths)
            {
                if (length > resourceName.Length) break;
                if (Check(acls.Prefixed(resourceName, length), who, host, operation, ref found, ref allowed))
                    return Denied(principal, host, operation, resourceType, resourceName);
            }
        }
        if (allowed || (!found && _allowEveryoneIfNoAclFound)) return true;
        return Denied(principal, host, operation, resourceType, resourceName);
    }

    /// <summary>Kafka's default Authorizer.authorizeByResourceType, against this authorizer's ACLs.</summary>
    public bool AuthorizeByResourceType(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType)
    {
        // Like Kafka, a hard-coded name first: super users, and allow.everyone.if.no.acl.found when nothing applies to it.
        if (Authorize(principal, host, operation, resourceType, "hardcode")) return true;
        var acls = Current().For(resourceType);
        if (acls is null) return false;
        string who = principal.ToString();
        var denyLiteral = new HashSet<string>(StringComparer.Ordinal);
        var denyPrefixed = new HashSet<string>(StringComparer.Ordinal);
        var allowLiteral = new List<string>();
        var allowPrefixed = new List<string>();
        foreach (var rule in acls.All)
        {
            if (rule.Host != Wildcard && rule.Host != host) continue;
            if (rule.Principal != who && rule.Principal != WildcardPrincipal) continue;
            if (rule.Operation != operation && rule.Operation != AclOperation.All) continue;
            bool literal = rule.Acl.PatternType == AclPatternType.Literal;
            if (!rule.Allow)
            {
                if (literal && rule.Acl.ResourceName == Wildcard) return false;
                (literal ? denyLiteral : denyPrefixed).Add(rule.Acl.ResourceName);
            }
            else
            {
                if (literal && rule.Acl.ResourceName == Wildcard) return true;
                (literal ? allowLiteral : allowPrefixed).Add(rule.Acl.ResourceName);
            }
        }
        // An allowed name or prefix counts unless a denied literal of the same name or a denied prefix covers it.
        bool Dominated(string name) => Enumerable.Range(1, name.Length).Any(n => denyPrefixed.Contains(name[..n]));
        return allowLiteral.Any(n => !denyLiteral.Contains(n) && !Dominated(n)) || allowPrefixed.Any(n => !Dominated(n));
    }

    /// <summary>Applies <paramref name="rules"/>; returns true when a DENY applies (the caller answers denied at once).</summary>
    private static bool Check(AclRule[]? rules, string principal, string host, AclOperation operation, ref bool found, ref bool allowed)
    {
        if (rules is null) return false;
        found = true;
        foreach (var rule in rules)
        {
            if (rule.Principal != principal && rule.Principal != WildcardPrincipal) continue;
            if (rule.Host != Wildcard && rule.Host != host) continue;
            if (!Applies(rule, operation)) continue;
            if (!rule.Allow) return true;
            allowed = true;
        }
        return false;
    }

    /// <summary>Kafka's StandardAuthorizerData.findResult: ALL matches any operation; only ALLOW rules imply others.</summary>
    private static bool Applies(AclRule rule, AclOperation operation)
    {
        if (rule.Operation == AclOperation.All || rule.Operation == operation) return true;
        if (!rule.Allow) return false;
        return operation switch
        {
            AclOperation.Describe => rule.Operation is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter,
            AclOperation.DescribeConfigs => rule.Operation == AclOperation.AlterConfigs,
            _ => false,
        };
    }

    private AclIndex Current()
    {
        var index = _index;
        var acls = _metadata.Image.Acls;
        if (ReferenceEquals(index.Source, acls)) return index;
        // Rebuilt by whichever request first sees the new image; concurrent rebuilds produce equal indexes.
        index = AclIndex.Build(acls);
        _index = index;
        return index;
    }

    private bool Denied(KafkaPrincipal principal, string host, AclOperation operation, ResourceType resourceType, string resourceName)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
            _logger.LogDebug("Principal = {Principal} is Denied operation = {Operation} from host = {Host} on resource = {Type}:{Name}",
                principal, operation, host, resourceType, resourceName);
        return false;
    }
}
