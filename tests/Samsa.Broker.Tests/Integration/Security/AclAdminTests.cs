using Confluent.Kafka;
using Confluent.Kafka.Admin;
using static Samsa.Broker.Tests.Integration.Security.AclTestHelpers;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>CreateAcls, DescribeAcls and DeleteAcls through Confluent.Kafka's AdminClient, with Kafka's filter semantics.</summary>
public sealed class AclAdminTests
{
    private static Task<TestBroker> StartAsync(string superUsers = Anonymous) => TestBroker.StartAsync(new Dictionary<string, string>
    {
        ["authorizer.class.name"] = StandardAuthorizer,
        ["super.users"] = superUsers,
    });

    private static string Describe(AclBinding b) =>
        $"{b.Pattern.Type}:{b.Pattern.ResourcePatternType}:{b.Pattern.Name} {b.Entry.PermissionType} {b.Entry.Principal} {b.Entry.Operation}";

    [Fact]
    public async Task Describe_and_delete_filters_match_as_kafka()
    {
        await using var broker = await StartAsync();
        using var admin = Admin(broker.BootstrapServers);
        await admin.CreateAclsAsync(
        [
            Allow(ResourceType.Topic, "orders", AclOperation.Read, "User:alice"),
            Allow(ResourceType.Topic, "*", AclOperation.Describe, "User:bob"),
            Deny(ResourceType.Topic, "ord", AclOperation.Write, "User:bob", ResourcePatternType.Prefixed),
            Allow(ResourceType.Topic, "payments", AclOperation.Write, "User:alice"),
            Allow(ResourceType.Group, "orders", AclOperation.Read, "User:alice"),
            Allow(ResourceType.Topic, "orders", AclOperation.Read, "User:alice"), // a duplicate is not stored twice
        ]);

        async Task<List<string>> Find(AclBindingFilter filter) =>
            (await admin.DescribeAclsAsync(filter)).AclBindings.Select(Describe).Order().ToList();

        Assert.Equal(5, (await Find(Filter())).Count);
        // MATCH: every ACL that applies to topic "orders": its literal, the wildcard and the prefix "ord".
        Assert.Equal(
            ["Topic:Literal:* Allow User:bob Describe", "Topic:Literal:orders Allow User:alice Read", "Topic:Prefixed:ord Deny User:bob Write"],
            await Find(Filter(ResourceType.Topic, "orders", ResourcePatternType.Match)));
        // ANY with a name: exactly that name, any pattern type, any resource type.
        Assert.Equal(["Group:Literal:orders Allow User:alice Read", "Topic:Literal:orders Allow User:alice Read"],
            await Find(Filter(ResourceType.Any, "orders")));
        // LITERAL: the wildcard ACL only matches the name "*" itself.
        Assert.Equal(["Topic:Literal:orders Allow User:alice Read"], await Find(Filter(ResourceType.Topic, "orders", ResourcePatternType.Literal)));
        // Entry filters: principal, operation, permission.
        Assert.Equal(["Topic:Prefixed:ord Deny User:bob Write"], await Find(Filter(principal: "User:bob", permission: AclPermissionType.Deny)));
        Assert.Equal(["Topic:Literal:payments Allow User:alice Write", "Topic:Prefixed:ord Deny User:bob Write"],
            await Find(Filter(operation: AclOperation.Write)));

        // Delete by MATCH on topic "orders": removes the three that apply, reports them, leaves the others.
        var deleted = await admin.DeleteAclsAsync([Filter(ResourceType.Topic, "orders", ResourcePatternType.Match)]);
        Assert.Equal(3, Assert.Single(deleted).AclBindings.Count);
        Assert.Equal(["Group:Literal:orders Allow User:alice Read", "Topic:Literal:payments Allow User:alice Write"], await Find(Filter()));
        // A filter that matches nothing succeeds with no bindings.
        Assert.Empty(Assert.Single(await admin.DeleteAclsAsync([Filter(principal: "User:nobody")])).AclBindings);
    }

    [Fact]
    public async Task Invalid_acls_are_rejected_one_by_one()
    {
        await using var broker = await StartAsync();
        using var admin = Admin(broker.BootstrapServers);
        var e = await Assert.ThrowsAsync<CreateAclsException>(() => admin.CreateAclsAsync(
        [
            Allow(ResourceType.Topic, "fine", AclOperation.Read),
            Allow(ResourceType.Broker, "not-the-cluster", AclOperation.Alter),
            Allow(ResourceType.Topic, "t", AclOperation.Read, principal: "alice"),
        ]));
        Assert.Equal([ErrorCode.NoError, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest], e.Results.Select(r => r.Error.Code));
        Assert.Single((await admin.DescribeAclsAsync(Filter())).AclBindings);
    }

    [Fact]
    public async Task Super_users_bypass_even_a_deny_of_everything()
    {
        await using var broker = await StartAsync();
        using (var admin = Admin(broker.BootstrapServers))
        {
            await admin.CreateAclsAsync(
            [
                Deny(ResourceType.Topic, "*", AclOperation.All, "User:*"),
                Deny(ResourceType.Group, "*", AclOperation.All, "User:*"),
                Deny(ResourceType.Broker, "kafka-cluster", AclOperation.All, "User:*"),
            ]);
        }
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(broker.BootstrapServers, "anything", "x"));
        var (values, error) = TryConsume(broker.BootstrapServers, "anything", 1, "g", subscribe: true);
        Assert.Equal(ErrorCode.NoError, error);
        Assert.Equal(["x"], values);

        // The same node without super users: the deny applies.
        await broker.RestartAsync(new Dictionary<string, string> { ["super.users"] = "User:someone-else" });
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(broker.BootstrapServers, "anything", "y"));
    }

    [Fact]
    public async Task Auto_creation_through_metadata_needs_create()
    {
        await using var broker = await StartAsync();
        using (var admin = Admin(broker.BootstrapServers))
        {
            await admin.CreateAclsAsync(
            [
                Allow(ResourceType.Topic, "auto-", AclOperation.Write, pattern: ResourcePatternType.Prefixed),
                Allow(ResourceType.Topic, "auto-ok", AclOperation.Create, pattern: ResourcePatternType.Prefixed),
            ]);
        }
        await broker.RestartAsync(new Dictionary<string, string> { ["super.users"] = "" });

        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(broker.BootstrapServers, "auto-ok-1"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(broker.BootstrapServers, "auto-no"));
        using var client = Admin(broker.BootstrapServers);
        var topics = client.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToList();
        Assert.Equal(["auto-ok-1"], topics);
    }

    [Fact]
    public async Task Without_an_authorizer_acl_apis_answer_security_disabled()
    {
        await using var broker = await TestBroker.StartAsync();
        using var admin = Admin(broker.BootstrapServers);
        // Confluent.Kafka 2.16 returns from DescribeAclsAsync without raising this error, so the raw response is checked.
        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        var described = await raw.RequestAsync<Samsa.Protocol.Messages.DescribeAclsResponse>(Samsa.Protocol.ApiKey.DescribeAcls, 3,
            new Samsa.Protocol.Messages.DescribeAclsRequest { ResourceTypeFilter = 1, PatternTypeFilter = 1, Operation = 1, PermissionType = 1, ResourceNameFilter = null, PrincipalFilter = null, HostFilter = null });
        Assert.Equal((short)Samsa.Protocol.ErrorCode.SecurityDisabled, described.ErrorCode);
        Assert.Empty(described.Resources);
        var create = await Assert.ThrowsAsync<CreateAclsException>(() => admin.CreateAclsAsync([Allow(ResourceType.Topic, "t", AclOperation.Read)]));
        Assert.Equal(ErrorCode.SecurityDisabled, Assert.Single(create.Results).Error.Code);
    }
}
