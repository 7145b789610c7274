using Confluent.Kafka;
using Confluent.Kafka.Admin;
using static Samsa.Broker.Tests.Integration.Security.AclTestHelpers;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// One node with the ACL authorizer. Topics, records and ACLs are created while User:ANONYMOUS (the PLAINTEXT principal)
/// is a super user; the node is then restarted without super users, so every test below runs on ACLs that survived a
/// restart (they live in the metadata log), granted to User:ANONYMOUS:
/// READ on topic "orders" and group "readers"; WRITE on PREFIXED "sales." with a DENY of WRITE on "sales.us";
/// WRITE on "audit" (not READ); DESCRIBE on the cluster. "hidden" has no ACL at all.
/// </summary>
public sealed class SecuredBrokerFixture : IAsyncLifetime
{
    public TestBroker Broker { get; private set; } = null!;
    public int AclCount { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Broker = await TestBroker.StartAsync(new Dictionary<string, string>
        {
            ["authorizer.class.name"] = StandardAuthorizer,
            ["super.users"] = Anonymous,
            ["auto.create.topics.enable"] = "false",
        });
        using (var admin = Admin(Broker.BootstrapServers))
        {
            await admin.CreateTopicsAsync(new[] { "orders", "sales.eu", "sales.apac", "sales.us", "audit", "hidden" }
                .Select(t => new TopicSpecification { Name = t, NumPartitions = 1, ReplicationFactor = 1 }));
            AclBinding[] acls =
            [
                Allow(ResourceType.Topic, "orders", AclOperation.Read),
                Allow(ResourceType.Group, "readers", AclOperation.Read),
                Allow(ResourceType.Topic, "sales.", AclOperation.Write, pattern: ResourcePatternType.Prefixed),
                Deny(ResourceType.Topic, "sales.us", AclOperation.Write),
                Allow(ResourceType.Topic, "audit", AclOperation.Write),
                Allow(ResourceType.Broker, "kafka-cluster", AclOperation.Describe),
            ];
            await admin.CreateAclsAsync(acls);
            // librdkafka's ACL API has no TransactionalId resource type: that ACL goes in with a raw CreateAcls.
            await using var raw = await RawKafkaClient.ConnectAsync(Broker);
            var created = await raw.RequestAsync<Samsa.Protocol.Messages.CreateAclsResponse>(Samsa.Protocol.ApiKey.CreateAcls, 3,
                new Samsa.Protocol.Messages.CreateAclsRequest
                {
                    Creations = [new() { ResourceType = 5, ResourceName = "txn-ok", ResourcePatternType = 3, Principal = Anonymous, Host = "*", Operation = 4, PermissionType = 3 }],
                });
            Assert.Equal(0, Assert.Single(created.Results).ErrorCode);
            AclCount = acls.Length + 1;
        }
        foreach (var topic in new[] { "orders", "hidden", "audit" })
            for (int i = 0; i < 10; i++)
                Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Broker.BootstrapServers, topic, $"{topic}-{i}"));
        await Broker.RestartAsync(new Dictionary<string, string> { ["super.users"] = "" });
    }

    public async ValueTask DisposeAsync() => await Broker.DisposeAsync();
}

public sealed class AclEnforcementTests(SecuredBrokerFixture fixture) : IClassFixture<SecuredBrokerFixture>
{
    private string Bootstrap => fixture.Broker.BootstrapServers;

    [Fact]
    public void Consumer_without_read_gets_topic_authorization_failed_and_no_records()
    {
        // "audit": WRITE implies DESCRIBE, so the topic is visible, but the Fetch is refused.
        var (values, error) = TryConsume(Bootstrap, "audit", 10, "readers");
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error);
        Assert.Empty(values);
        // "hidden": no ACL at all (allow.everyone.if.no.acl.found is false): Metadata refuses it, a subscriber gets the error.
        (values, error) = TryConsume(Bootstrap, "hidden", 10, "readers", subscribe: true);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error);
        Assert.Empty(values);
    }

    [Fact]
    public async Task Producer_without_write_gets_topic_authorization_failed()
    {
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(Bootstrap, "orders"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(Bootstrap, "hidden"));
        // Not revealing existence: a topic that does not exist answers the same as one that does.
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(Bootstrap, "no-such-topic"));
    }

    [Fact]
    public async Task Prefixed_acl_grants_a_family_of_topics_and_deny_beats_allow()
    {
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Bootstrap, "sales.eu"));
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Bootstrap, "sales.apac"));
        // Idempotent producers need IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679): the prefix grants it.
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Bootstrap, "sales.eu", extra: new Dictionary<string, string> { ["enable.idempotence"] = "true" }));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(Bootstrap, "sales.us"));
    }

    [Fact]
    public void Group_read_is_needed_to_consume_in_a_group()
    {
        var (values, error) = TryConsume(Bootstrap, "orders", 10, "readers", subscribe: true);
        Assert.Equal(ErrorCode.NoError, error);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"orders-{i}"), values);

        (values, error) = TryConsume(Bootstrap, "orders", 10, "strangers", subscribe: true);
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, error);
        Assert.Empty(values);
    }

    [Fact]
    public void Metadata_lists_only_describable_topics()
    {
        using var admin = Admin(Bootstrap);
        var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).Order().ToList();
        Assert.Equal(["audit", "orders", "sales.apac", "sales.eu", "sales.us"], topics);
    }

    [Fact]
    public async Task Acls_survive_a_restart_and_managing_them_needs_cluster_alter()
    {
        using var admin = Admin(Bootstrap);
        var described = await admin.DescribeAclsAsync(Filter());
        Assert.Equal(fixture.AclCount, described.AclBindings.Count);
        Assert.Contains(described.AclBindings, b => b.Pattern.Name == "sales." && b.Pattern.ResourcePatternType == ResourcePatternType.Prefixed);

        var create = await Assert.ThrowsAsync<CreateAclsException>(() => admin.CreateAclsAsync([Allow(ResourceType.Topic, "hidden", AclOperation.Read)]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.Single(create.Results).Error.Code);
        var delete = await Assert.ThrowsAsync<DeleteAclsException>(() => admin.DeleteAclsAsync([Filter()]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.Single(delete.Results).Error.Code);
        Assert.Equal(fixture.AclCount, (await admin.DescribeAclsAsync(Filter())).AclBindings.Count);
    }

    [Fact]
    public async Task Transactional_producers_need_write_on_their_transactional_id()
    {
        ProducerConfig Config(string id) => new() { BootstrapServers = Bootstrap, TransactionalId = id, TransactionTimeoutMs = 10_000 };
        using (var denied = new ProducerBuilder<Null, string>(Config("txn-denied")).Build())
        {
            var e = Assert.ThrowsAny<KafkaException>(() => denied.InitTransactions(TimeSpan.FromSeconds(10)));
            Assert.Equal(ErrorCode.TransactionalIdAuthorizationFailed, e.Error.Code);
        }
        using var allowed = new ProducerBuilder<Null, string>(Config("txn-ok")).Build();
        allowed.InitTransactions(TimeSpan.FromSeconds(10));
        allowed.BeginTransaction();
        await allowed.ProduceAsync("sales.eu", new Message<Null, string> { Value = "in-a-transaction" });
        allowed.CommitTransaction(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Topic_admin_operations_need_their_acls()
    {
        using var admin = Admin(Bootstrap);
        var create = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "new-topic", NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(create.Results).Error.Code);
        var delete = await Assert.ThrowsAsync<DeleteTopicsException>(() => admin.DeleteTopicsAsync(["orders"]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(delete.Results).Error.Code);
    }
}
