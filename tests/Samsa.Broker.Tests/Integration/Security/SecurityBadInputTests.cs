using Samsa.Protocol;
using Samsa.Protocol.Messages;
using static Samsa.Broker.Tests.Integration.Security.AclTestHelpers;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>Malformed ACL and quota requests get Kafka's error codes, and the connection keeps working.</summary>
public sealed class SecurityBadInputTests
{
    [Fact]
    public async Task Bad_acl_and_quota_requests_get_error_codes()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string>
        {
            ["authorizer.class.name"] = StandardAuthorizer,
            ["super.users"] = Anonymous,
        });
        await using var raw = await RawKafkaClient.ConnectAsync(broker);

        // Unknown resource type, ANY pattern on creation, unknown operation, empty host, unknown permission.
        CreateAclsRequest.AclCreation Creation(sbyte type = 2, sbyte pattern = 3, sbyte op = 3, string host = "*", sbyte permission = 3) =>
            new() { ResourceType = type, ResourceName = "t", ResourcePatternType = pattern, Principal = "User:x", Host = host, Operation = op, PermissionType = permission };
        var created = await raw.RequestAsync<CreateAclsResponse>(ApiKey.CreateAcls, 3, new CreateAclsRequest
        {
            Creations = [Creation(type: 99), Creation(pattern: 1), Creation(op: 42), Creation(host: ""), Creation(permission: 1), Creation()],
        });
        Assert.Equal([42, 42, 42, 42, 42, 0], created.Results.Select(r => (int)r.ErrorCode));

        var deleted = await raw.RequestAsync<DeleteAclsResponse>(ApiKey.DeleteAcls, 3, new DeleteAclsRequest
        {
            Filters = [new() { ResourceTypeFilter = 0, PatternTypeFilter = 1, Operation = 1, PermissionType = 1, ResourceNameFilter = null, PrincipalFilter = null, HostFilter = null }],
        });
        Assert.Equal((short)ErrorCode.InvalidRequest, Assert.Single(deleted.FilterResults).ErrorCode);

        var described = await raw.RequestAsync<DescribeAclsResponse>(ApiKey.DescribeAcls, 3, new DescribeAclsRequest
        {
            ResourceTypeFilter = 1, PatternTypeFilter = 0, Operation = 1, PermissionType = 1, ResourceNameFilter = null, PrincipalFilter = null, HostFilter = null,
        });
        Assert.Equal((short)ErrorCode.InvalidRequest, described.ErrorCode);

        AlterClientQuotasRequest.EntryData Quota(params (string Type, string? Name)[] entity)
        {
            var entry = new AlterClientQuotasRequest.EntryData { Entity = [.. entity.Select(e => new AlterClientQuotasRequest.EntityData { EntityType = e.Type, EntityName = e.Name })] };
            entry.Ops.Add(new() { Key = "producer_byte_rate", Value = 1000 });
            return entry;
        }
        var altered = await raw.RequestAsync<AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, 1, new AlterClientQuotasRequest
        {
            Entries =
            [
                Quota(),                                        // empty entity
                Quota(("group", "g")),                          // unknown entity type
                Quota(("user", "a"), ("user", "b")),            // repeated type
                Quota(("ip", "10.0.0.1"), ("user", "a")),       // ip with user
                Quota(("ip", "not-an-ip")),                     // bad address (and producer_byte_rate is not an ip quota)
                Quota(("user", "a"), ("client-id", "c")),       // fine
            ],
        });
        Assert.Equal([42, 42, 42, 42, 42, 0], altered.Entries.Select(e => (int)e.ErrorCode));

        var unknownType = await raw.RequestAsync<DescribeClientQuotasResponse>(ApiKey.DescribeClientQuotas, 1, new DescribeClientQuotasRequest
        {
            Components = [new() { EntityType = "group", MatchType = 2, Match = null }],
        });
        Assert.Equal((short)ErrorCode.UnsupportedVersion, unknownType.ErrorCode);
        var twice = await raw.RequestAsync<DescribeClientQuotasResponse>(ApiKey.DescribeClientQuotas, 1, new DescribeClientQuotasRequest
        {
            Components = [new() { EntityType = "user", MatchType = 2, Match = null }, new() { EntityType = "user", MatchType = 1, Match = null }],
        });
        Assert.Equal((short)ErrorCode.InvalidRequest, twice.ErrorCode);
        Assert.Null(twice.Entries);

        // The connection still serves.
        await BadInputHelpers.AssertApiVersionsRoundTripAsync(raw);
    }
}
