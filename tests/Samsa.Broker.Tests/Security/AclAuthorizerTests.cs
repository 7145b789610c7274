using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Security;
using Samsa.Broker.Security.Authorization;
using Samsa.Metadata;

namespace Samsa.Broker.Tests.Security;

/// <summary>The ACL matcher against Kafka's StandardAuthorizer rules, on an in-memory metadata image.</summary>
public sealed class AclAuthorizerTests
{
    private static readonly KafkaPrincipal Alice = new("User", "alice");
    private static readonly KafkaPrincipal Bob = new("User", "bob");
    private const string Host = "10.0.0.1";

    private static AccessControlEntryRecord Acl(ResourceType type, string name, AclPatternType pattern, string principal, AclOperation op,
        AclPermissionType permission = AclPermissionType.Allow, string host = "*") =>
        new(Guid.NewGuid(), (sbyte)type, name, pattern, principal, host, (sbyte)op, permission);

    private static (AclAuthorizer Authorizer, MemoryMetadataLog Log) Create(IEnumerable<AccessControlEntryRecord> acls, string superUsers = "", bool allowEveryone = false)
    {
        var log = new MemoryMetadataLog(MetadataImage.Empty.Apply(acls));
        return (new AclAuthorizer(log, AclAuthorizer.ParseSuperUsers(superUsers), allowEveryone, NullLogger.Instance), log);
    }

    [Fact]
    public void Literal_acl_grants_only_its_operation_principal_and_resource()
    {
        var (auth, _) = Create([Acl(ResourceType.Topic, "orders", AclPatternType.Literal, "User:alice", AclOperation.Read)]);
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "orders"));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "orders"));
        Assert.False(auth.Authorize(Bob, Host, AclOperation.Read, ResourceType.Topic, "orders"));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "orders2"));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Group, "orders"));
    }

    [Fact]
    public void Prefixed_acl_grants_every_name_starting_with_the_prefix()
    {
        var (auth, _) = Create([Acl(ResourceType.Topic, "sales.", AclPatternType.Prefixed, "User:alice", AclOperation.Write)]);
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "sales.eu"));
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "sales."));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "sales"));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "presales.eu"));
    }

    [Fact]
    public void Deny_wins_over_allow_from_any_pattern()
    {
        var (auth, _) = Create(
        [
            Acl(ResourceType.Topic, "*", AclPatternType.Literal, "User:*", AclOperation.All),
            Acl(ResourceType.Topic, "secret", AclPatternType.Prefixed, "User:alice", AclOperation.Read, AclPermissionType.Deny),
        ]);
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "secret-plans"));
        Assert.True(auth.Authorize(Bob, Host, AclOperation.Read, ResourceType.Topic, "secret-plans"));
        // A DENY of READ does not deny DESCRIBE or WRITE (only ALLOW implies other operations).
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Describe, ResourceType.Topic, "secret-plans"));
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "secret-plans"));
    }

    [Theory]
    [InlineData(AclOperation.Read, AclOperation.Describe, true)]
    [InlineData(AclOperation.Write, AclOperation.Describe, true)]
    [InlineData(AclOperation.Delete, AclOperation.Describe, true)]
    [InlineData(AclOperation.Alter, AclOperation.Describe, true)]
    [InlineData(AclOperation.AlterConfigs, AclOperation.DescribeConfigs, true)]
    [InlineData(AclOperation.All, AclOperation.IdempotentWrite, true)]
    [InlineData(AclOperation.Describe, AclOperation.Read, false)]
    [InlineData(AclOperation.Create, AclOperation.Describe, false)]
    [InlineData(AclOperation.AlterConfigs, AclOperation.Describe, false)]
    [InlineData(AclOperation.DescribeConfigs, AclOperation.AlterConfigs, false)]
    public void Allow_implies_operations_as_kafka(AclOperation granted, AclOperation asked, bool allowed)
    {
        var (auth, _) = Create([Acl(ResourceType.Topic, "t", AclPatternType.Literal, "User:alice", granted)]);
        Assert.Equal(allowed, auth.Authorize(Alice, Host, asked, ResourceType.Topic, "t"));
    }

    [Fact]
    public void Deny_all_denies_every_operation()
    {
        var (auth, _) = Create(
        [
            Acl(ResourceType.Topic, "t", AclPatternType.Literal, "User:alice", AclOperation.All),
            Acl(ResourceType.Topic, "t", AclPatternType.Literal, "User:alice", AclOperation.All, AclPermissionType.Deny, Host),
        ]);
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Describe, ResourceType.Topic, "t"));
        Assert.True(auth.Authorize(Alice, "10.0.0.2", AclOperation.Describe, ResourceType.Topic, "t")); // the DENY names one host
    }

    [Fact]
    public void Host_must_match_or_be_the_wildcard()
    {
        var (auth, _) = Create([Acl(ResourceType.Group, "g", AclPatternType.Literal, "User:alice", AclOperation.Read, host: Host)]);
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Group, "g"));
        Assert.False(auth.Authorize(Alice, "10.0.0.9", AclOperation.Read, ResourceType.Group, "g"));
    }

    [Fact]
    public void Super_users_bypass_acls_including_deny()
    {
        var (auth, _) = Create([Acl(ResourceType.Topic, "*", AclPatternType.Literal, "User:*", AclOperation.All, AclPermissionType.Deny)], "User:admin; User:bob");
        Assert.True(auth.Authorize(Bob, Host, AclOperation.Alter, ResourceType.Cluster, "kafka-cluster"));
        Assert.True(auth.Authorize(Bob, Host, AclOperation.Read, ResourceType.Topic, "x"));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "x"));
    }

    [Fact]
    public void Allow_everyone_if_no_acl_found_applies_only_to_resources_without_acls()
    {
        var (auth, _) = Create([Acl(ResourceType.Topic, "guarded", AclPatternType.Literal, "User:bob", AclOperation.Read)], allowEveryone: true);
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "open"));
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "guarded"));
        var (strict, _) = Create([]);
        Assert.False(strict.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "open"));
    }

    [Fact]
    public void Acl_changes_in_the_image_are_seen_by_the_next_check()
    {
        var (auth, log) = Create([]);
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "t"));
        var acl = Acl(ResourceType.Topic, "t", AclPatternType.Literal, "User:alice", AclOperation.Read);
        log.Image = log.Image.Apply([acl]);
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "t"));
        log.Image = log.Image.Apply([new RemoveAccessControlEntryRecord(acl.Id)]);
        Assert.False(auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "t"));
    }

    [Fact]
    public void Authorize_by_resource_type_follows_kafka()
    {
        // An allowed prefix not covered by a denied prefix grants WRITE on "some topic" (idempotent producer, KIP-679).
        var (auth, _) = Create(
        [
            Acl(ResourceType.Topic, "app-", AclPatternType.Prefixed, "User:alice", AclOperation.Write),
            Acl(ResourceType.Topic, "app-secret", AclPatternType.Literal, "User:bob", AclOperation.Write),
            Acl(ResourceType.Topic, "app", AclPatternType.Prefixed, "User:bob", AclOperation.Write, AclPermissionType.Deny),
        ]);
        Assert.True(auth.AuthorizeByResourceType(Alice, Host, AclOperation.Write, ResourceType.Topic));
        Assert.False(auth.AuthorizeByResourceType(Bob, Host, AclOperation.Write, ResourceType.Topic));
        Assert.False(auth.AuthorizeByResourceType(Alice, Host, AclOperation.Read, ResourceType.Topic));
    }

    [Fact]
    public void Filters_have_kafka_match_semantics()
    {
        var literal = Acl(ResourceType.Topic, "orders", AclPatternType.Literal, "User:alice", AclOperation.Read);
        var wildcard = Acl(ResourceType.Topic, "*", AclPatternType.Literal, "User:bob", AclOperation.Read);
        var prefixed = Acl(ResourceType.Topic, "ord", AclPatternType.Prefixed, "User:bob", AclOperation.Write, AclPermissionType.Deny);
        var other = Acl(ResourceType.Group, "orders", AclPatternType.Literal, "User:alice", AclOperation.Read);
        AccessControlEntryRecord[] all = [literal, wildcard, prefixed, other];
        IEnumerable<AccessControlEntryRecord> Match(AclBindingFilter f) => all.Where(f.Matches);

        // ANY pattern with a name: exact name of any pattern type.
        Assert.Equal([literal, other], Match(new(1, "orders", AclPatternType.Any, null, null, 1, AclPermissionType.Any)));
        // MATCH: everything that applies to topic "orders".
        Assert.Equal([literal, wildcard, prefixed], Match(new(2, "orders", AclPatternType.Match, null, null, 1, AclPermissionType.Any)));
        // LITERAL filter: literal patterns with exactly that name ("*" only matches the wildcard ACL itself).
        Assert.Equal([literal], Match(new(2, "orders", AclPatternType.Literal, null, null, 1, AclPermissionType.Any)));
        Assert.Equal([wildcard], Match(new(2, "*", AclPatternType.Literal, null, null, 1, AclPermissionType.Any)));
        // Entry filters.
        Assert.Equal([prefixed], Match(new(1, null, AclPatternType.Any, "User:bob", null, 1, AclPermissionType.Deny)));
        Assert.Equal([literal, other], Match(new(1, null, AclPatternType.Any, "User:alice", "*", (sbyte)AclOperation.Read, AclPermissionType.Allow)));
        Assert.True(new AclBindingFilter(0, null, AclPatternType.Any, null, null, 1, AclPermissionType.Any).IsUnknown);
    }

    [Fact]
    public void Authorize_does_not_allocate_on_the_hot_path()
    {
        var acls = Enumerable.Range(0, 1000).Select(i => Acl(ResourceType.Topic, "topic-" + i, AclPatternType.Literal, "User:alice", AclOperation.Read))
            .Append(Acl(ResourceType.Topic, "logs.", AclPatternType.Prefixed, "User:alice", AclOperation.Write))
            .Append(Acl(ResourceType.Topic, "logs.app.", AclPatternType.Prefixed, "User:bob", AclOperation.Write));
        var (auth, _) = Create(acls);
        Assert.True(auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "logs.app.x")); // warm up (builds nothing new)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            auth.Authorize(Alice, Host, AclOperation.Read, ResourceType.Topic, "topic-500");
            auth.Authorize(Alice, Host, AclOperation.Write, ResourceType.Topic, "logs.app.x");
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
