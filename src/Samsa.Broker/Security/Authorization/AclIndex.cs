using System.Collections.Immutable;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authorization;

/// <summary>One ACL's entry as the authorizer checks it.</summary>
internal sealed record AclRule(string Principal, string Host, AclOperation Operation, bool Allow, AccessControlEntryRecord Acl);

/// <summary>
/// The ACLs of one <see cref="MetadataImage"/> indexed for lookups on the request path: per resource type, LITERAL
/// ACLs by exact name (the wildcard "*" is one of those names) and PREFIXED ACLs by prefix, probed with span slices of
/// the resource name (one dictionary probe per distinct prefix length, no allocation). Immutable once built.
/// </summary>
internal sealed class AclIndex
{
    private const int ResourceTypes = 8;

    private readonly ResourceAcls?[] _byType = new ResourceAcls?[ResourceTypes];

    private AclIndex(ImmutableDictionary<Guid, AccessControlEntryRecord> source) => Source = source;

    /// <summary>The image map this index was built from; a different map means the ACLs changed.</summary>
    public ImmutableDictionary<Guid, AccessControlEntryRecord> Source { get; }

    public static AclIndex Build(ImmutableDictionary<Guid, AccessControlEntryRecord> acls)
    {
        var index = new AclIndex(acls);
        foreach (var group in acls.Values.Where(a => a.ResourceType is >= 0 and < ResourceTypes).GroupBy(a => a.ResourceType))
            index._byType[group.Key] = new ResourceAcls(group);
        return index;
    }

    public ResourceAcls? For(ResourceType type) => (uint)type < ResourceTypes ? _byType[(int)type] : null;

    internal sealed class ResourceAcls
    {
        private readonly Dictionary<string, AclRule[]> _literal = new(StringComparer.Ordinal);
        private readonly Dictionary<string, AclRule[]> _prefixed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, AclRule[]>.AlternateLookup<ReadOnlySpan<char>> _prefixLookup;
        private readonly int[] _prefixLengths;

        public ResourceAcls(IEnumerable<AccessControlEntryRecord> acls)
        {
            var all = acls.OrderBy(a => a.Id).ToList();
            foreach (var g in all.Where(a => a.PatternType == AclPatternType.Literal).GroupBy(a => a.ResourceName, StringComparer.Ordinal))
                _literal[g.Key] = [.. g.Select(Rule)];
            foreach (var g in all.Where(a => a.PatternType == AclPatternType.Prefixed).GroupBy(a => a.ResourceName, StringComparer.Ordinal))
                _prefixed[g.Key] = [.. g.Select(Rule)];
            _prefixLookup = _prefixed.GetAlternateLookup<ReadOnlySpan<char>>();
            _prefixLengths = [.. _prefixed.Keys.Select(k => k.Length).Distinct().Order()];
            All = [.. all.Select(Rule)];
        }

        /// <summary>Every ACL of this resource type, for authorizeByResourceType.</summary>
        public AclRule[] All { get; }

        public AclRule[]? Literal(string name) => _literal.GetValueOrDefault(name);

        /// <summary>The PREFIXED ACLs whose prefix has length <paramref name="length"/> and starts <paramref name="name"/>.</summary>
        public AclRule[]? Prefixed(string name, int length) =>
            _prefixLookup.TryGetValue(name.AsSpan(0, length), out var rules) ? rules : null;

        public ReadOnlySpan<int> PrefixLengths => _prefixLengths;

        private static AclRule Rule(AccessControlEntryRecord a) =>
            new(a.Principal, a.Host, (AclOperation)a.Operation, a.PermissionType == AclPermissionType.Allow, a);
    }
}
