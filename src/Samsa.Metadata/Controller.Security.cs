using System.Net;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Metadata;

/// <summary>One client quota change: set <see cref="Value"/>, or remove the key when <see cref="Remove"/>.</summary>
public sealed record ClientQuotaOp(string Key, double Value, bool Remove);

/// <summary>ACL and client-quota operations of the controller (Kafka's AclControlManager and ClientQuotaControlManager).</summary>
public sealed partial class Controller
{
    /// <summary>The only name a CLUSTER resource has.</summary>
    public const string ClusterResourceName = "kafka-cluster";

    /// <summary>Quota keys of user/client-id entities and whether their value must be a whole number.</summary>
    private static readonly Dictionary<string, bool> s_clientQuotaKeys = new(StringComparer.Ordinal)
    {
        ["producer_byte_rate"] = true,
        ["consumer_byte_rate"] = true,
        ["request_percentage"] = false,
        ["controller_mutation_rate"] = false,
    };

    /// <summary>
    /// Creates ACLs (ids are assigned here; the records' ids are ignored). Each ACL is validated on its own, like
    /// Kafka; an ACL identical to an existing one succeeds without a new record. Valid ACLs are written in one batch.
    /// </summary>
    public async Task<IReadOnlyList<ControllerResult>> CreateAclsAsync(IReadOnlyList<AccessControlEntryRecord> acls, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var existing = log.Image.Acls.Values.ToList();
            var results = new ControllerResult[acls.Count];
            var records = new List<MetadataRecord>();
            for (int i = 0; i < acls.Count; i++)
            {
                var acl = acls[i];
                string? invalid = ValidateNewAcl(acl);
                if (invalid is not null)
                {
                    results[i] = new(ErrorCode.InvalidRequest, invalid);
                    continue;
                }
                results[i] = ControllerResult.Ok;
                if (existing.Any(e => e.SameBinding(acl))) continue;
                var record = acl with { Id = Guid.NewGuid() };
                existing.Add(record);
                records.Add(record);
            }
            if (records.Count > 0)
            {
                await log.AppendAsync(records, ct).ConfigureAwait(false);
                foreach (AccessControlEntryRecord r in records)
                    logger.LogInformation("Created ACL {Id}: {Permission} {Principal} from {Host} {Operation} on {Type}:{Pattern}:{Name}",
                        r.Id, r.PermissionType, r.Principal, r.Host, r.Operation, r.ResourceType, r.PatternType, r.ResourceName);
            }
            return results;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Deletes every ACL matching each filter. Each filter's result lists all ACLs it matched (an ACL matched by two
    /// filters appears in both and is removed once). Invalid filters (an UNKNOWN element) fail on their own.
    /// </summary>
    public async Task<IReadOnlyList<(ControllerResult Result, IReadOnlyList<AccessControlEntryRecord> Deleted)>> DeleteAclsAsync(
        IReadOnlyList<AclBindingFilter> filters, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var acls = log.Image.Acls.Values.OrderBy(a => a.Id).ToList();
            var results = new List<(ControllerResult, IReadOnlyList<AccessControlEntryRecord>)>(filters.Count);
            var removed = new HashSet<Guid>();
            var records = new List<MetadataRecord>();
            foreach (var filter in filters)
            {
                if (filter.IsUnknown)
                {
                    results.Add((new(ErrorCode.InvalidRequest, "The filter contains UNKNOWN elements."), []));
                    continue;
                }
                var matched = acls.Where(filter.Matches).ToList();
                foreach (var acl in matched)
                    if (removed.Add(acl.Id)) records.Add(new RemoveAccessControlEntryRecord(acl.Id));
                results.Add((ControllerResult.Ok, matched));
            }
            if (records.Count > 0)
            {
                await log.AppendAsync(records, ct).ConfigureAwait(false);
                logger.LogInformation("Deleted {Count} ACL(s)", records.Count);
            }
            return results;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Kafka's AclControlManager.validateNewAcl plus the broker's check of the cluster resource name.</summary>
    private static string? ValidateNewAcl(AccessControlEntryRecord acl)
    {
        const sbyte cluster = 4;
        if (acl.ResourceType is < 2 or > 7) return $"Invalid resourceType {acl.ResourceType}.";
        if (acl.PatternType is not (AclPatternType.Literal or AclPatternType.Prefixed)) return $"Invalid patternType {acl.PatternType}.";
        if (acl.Operation is < 2 or > 14) return $"Invalid operation {acl.Operation}.";
        if (acl.PermissionType is not (AclPermissionType.Allow or AclPermissionType.Deny)) return $"Invalid permissionType {acl.PermissionType}.";
        if (string.IsNullOrEmpty(acl.ResourceName)) return "Resource name should not be empty.";
        if (acl.ResourceType == cluster && acl.ResourceName != ClusterResourceName)
            return $"The only valid name for the CLUSTER resource is {ClusterResourceName}.";
        int colon = acl.Principal.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == acl.Principal.Length - 1)
            return $"Could not parse principal from `{acl.Principal}` (no colon is present separating the principal type from the principal name).";
        if (string.IsNullOrEmpty(acl.Host)) return "Host should not be empty (use * for every host).";
        return null;
    }

    /// <summary>
    /// Alters the quotas of one entity (Kafka's ClientQuotaControlManager): validates the entity (user, client-id,
    /// user+client-id or ip), the keys and values, then writes one record per change.
    /// </summary>
    public async Task<ControllerResult> AlterClientQuotaAsync(
        IReadOnlyList<ClientQuotaEntityPart> parts, IReadOnlyList<ClientQuotaOp> ops, bool validateOnly, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var entity = ClientQuotaEntity.FromParts(parts);
            if (entity is not { } e)
                return new(ErrorCode.InvalidRequest, "Invalid quota entity: the types are user, client-id and ip, each at most once.");
            if (e.Ip is not null && (e.User is not null || e.ClientId is not null))
                return new(ErrorCode.InvalidRequest, "Invalid quota entity combination: ip cannot be combined with user or client-id.");
            if (e.Ip is { Name: { } ip } && !IPAddress.TryParse(ip, out _))
                return new(ErrorCode.InvalidRequest, $"{ip} is not a valid IP address.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var op in ops)
            {
                if (!seen.Add(op.Key)) return new(ErrorCode.InvalidRequest, $"Duplicate quota key {op.Key}.");
                bool wholeNumber;
                if (e.Ip is not null)
                {
                    if (op.Key != "connection_creation_rate") return new(ErrorCode.InvalidRequest, $"Invalid configuration key {op.Key}.");
                    wholeNumber = false;
                }
                else if (!s_clientQuotaKeys.TryGetValue(op.Key, out wholeNumber))
                {
                    return new(ErrorCode.InvalidRequest, $"Invalid configuration key {op.Key}.");
                }
                if (op.Remove) continue;
                if (!double.IsFinite(op.Value) || op.Value <= 0)
                    return new(ErrorCode.InvalidRequest, $"Value {op.Value} for config key {op.Key} must be positive.");
                if (wholeNumber && Math.Floor(op.Value) != op.Value)
                    return new(ErrorCode.InvalidRequest, $"Value {op.Value} for config key {op.Key} must be an integer.");
            }
            var current = log.Image.ClientQuotas.GetValueOrDefault(e);
            var records = new List<MetadataRecord>();
            var entityParts = e.ToParts();
            foreach (var op in ops)
            {
                if (op.Remove && current?.ContainsKey(op.Key) != true) continue;
                records.Add(new ClientQuotaRecord(entityParts, op.Key, op.Remove ? null : op.Value));
            }
            if (!validateOnly && records.Count > 0)
            {
                await log.AppendAsync(records, ct).ConfigureAwait(false);
                logger.LogInformation("Altered client quotas of {Entity}: {Changes}", e,
                    string.Join(", ", ops.Select(o => o.Remove ? $"remove {o.Key}" : $"{o.Key}={o.Value}")));
            }
            return ControllerResult.Ok;
        }
        finally
        {
            _lock.Release();
        }
    }
}
