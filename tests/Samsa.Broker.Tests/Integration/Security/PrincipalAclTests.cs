using Confluent.Kafka;
using Confluent.Kafka.Admin;
using static Samsa.Broker.Tests.Integration.Security.AclTestHelpers;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// ACLs per authenticated principal: a SASL_PLAINTEXT listener with PLAIN users admin (super user), alice and bob.
/// admin creates the topics and ACLs; alice and bob then see exactly what their ACLs grant.
/// </summary>
public sealed class PrincipalAclFixture : IAsyncLifetime
{
    public TestBroker Broker { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Broker = await TestBroker.StartAsync(new Dictionary<string, string>
        {
            ["listeners"] = "SASL_PLAINTEXT://127.0.0.1:0",
            ["inter.broker.listener.name"] = "SASL_PLAINTEXT",
            ["sasl.enabled.mechanisms"] = "PLAIN",
            ["listener.name.sasl_plaintext.plain.sasl.jaas.config"] =
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"admin-secret\" " +
                "user_admin=\"admin-secret\" user_alice=\"alice-secret\" user_bob=\"bob-secret\";",
            ["authorizer.class.name"] = StandardAuthorizer,
            ["super.users"] = "User:admin",
            ["auto.create.topics.enable"] = "false",
        });
        using var admin = Admin(Broker.BootstrapServers, As("admin"));
        await admin.CreateTopicsAsync(new[] { "orders", "payroll", "news", "local-only", "remote-only", "metered" }
            .Select(t => new TopicSpecification { Name = t, NumPartitions = 1, ReplicationFactor = 1 }));
        await admin.CreateAclsAsync(
        [
            Allow(ResourceType.Topic, "orders", AclOperation.Read, "User:alice"),
            Allow(ResourceType.Topic, "orders", AclOperation.Write, "User:alice"),
            Allow(ResourceType.Group, "alice-", AclOperation.Read, "User:alice", ResourcePatternType.Prefixed),
            Allow(ResourceType.Topic, "orders", AclOperation.Write, "User:bob"),
            Allow(ResourceType.Group, "*", AclOperation.Read, "User:*"),
            Allow(ResourceType.Topic, "news", AclOperation.Read, "User:*"),
            Deny(ResourceType.Topic, "news", AclOperation.Read, "User:bob"),
            Allow(ResourceType.Topic, "local-only", AclOperation.Write, "User:alice", host: "127.0.0.1"),
            Allow(ResourceType.Topic, "remote-only", AclOperation.Write, "User:alice", host: "10.1.2.3"),
            Allow(ResourceType.Topic, "metered", AclOperation.Write, "User:alice"),
            Allow(ResourceType.Topic, "metered", AclOperation.Write, "User:bob"),
        ]);
        for (int i = 0; i < 3; i++)
            Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Broker.BootstrapServers, "news", $"news-{i}", As("admin")));
    }

    public static Dictionary<string, string> As(string user) => new()
    {
        ["security.protocol"] = "SASL_PLAINTEXT",
        ["sasl.mechanism"] = "PLAIN",
        ["sasl.username"] = user,
        ["sasl.password"] = user + "-secret",
    };

    public async ValueTask DisposeAsync() => await Broker.DisposeAsync();
}

public sealed class PrincipalAclTests(PrincipalAclFixture fixture) : IClassFixture<PrincipalAclFixture>
{
    private string Bootstrap => fixture.Broker.BootstrapServers;
    private static Dictionary<string, string> As(string user) => PrincipalAclFixture.As(user);

    [Fact]
    public async Task Each_principal_gets_its_own_acls()
    {
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Bootstrap, "orders", "from-alice", As("alice")));
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Bootstrap, "orders", "from-bob", As("bob")));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(Bootstrap, "payroll", "x", As("alice")));

        // alice reads orders in her prefixed group; bob may write but not read it.
        var (values, error) = TryConsume(Bootstrap, "orders", 2, "alice-consumers", subscribe: true, extra: As("alice"));
        Assert.Equal(ErrorCode.NoError, error);
        Assert.Contains("from-alice", values);
        Assert.Contains("from-bob", values);
        (values, error) = TryConsume(Bootstrap, "orders", 2, "bob-consumers", extra: As("bob"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error);
        Assert.Empty(values);
    }

    [Fact]
    public void Wildcard_principal_allow_is_overridden_by_a_deny_for_one_user()
    {
        var (values, error) = TryConsume(Bootstrap, "news", 3, "alice-news", extra: As("alice"));
        Assert.Equal(ErrorCode.NoError, error);
        Assert.Equal(["news-0", "news-1", "news-2"], values);
        (values, error) = TryConsume(Bootstrap, "news", 3, "bob-news", extra: As("bob"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error);
        Assert.Empty(values);
    }

    [Fact]
    public async Task Host_acls_match_the_client_address()
    {
        Assert.Equal(ErrorCode.NoError, await TryProduceAsync(Bootstrap, "local-only", "x", As("alice")));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await TryProduceAsync(Bootstrap, "remote-only", "x", As("alice")));
    }

    [Fact]
    public async Task Metadata_shows_each_principal_its_own_topics_and_only_super_users_manage_acls()
    {
        List<string> Topics(string user)
        {
            using var admin = Admin(Bootstrap, As(user));
            return admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).Where(t => !t.StartsWith("__", StringComparison.Ordinal)).Order().ToList();
        }
        // remote-only's ACL names another host; bob's DENY of READ on news does not deny the DESCRIBE that User:* READ implies.
        Assert.Equal(["local-only", "metered", "news", "orders"], Topics("alice"));
        Assert.Equal(["metered", "news", "orders"], Topics("bob"));
        Assert.Equal(["local-only", "metered", "news", "orders", "payroll", "remote-only"], Topics("admin"));

        using var alice = Admin(Bootstrap, As("alice"));
        var e = await Assert.ThrowsAsync<CreateAclsException>(() => alice.CreateAclsAsync([Allow(ResourceType.Topic, "payroll", AclOperation.Read, "User:alice")]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.Single(e.Results).Error.Code);
    }

    [Fact]
    public async Task A_user_quota_throttles_that_user_and_not_another()
    {
        await using var admin = await RawAsAsync("admin");
        var quota = new Samsa.Protocol.Messages.AlterClientQuotasRequest.EntryData { Entity = [new() { EntityType = "user", EntityName = "alice" }] };
        quota.Ops.Add(new() { Key = "producer_byte_rate", Value = 5000 });
        var altered = await admin.RequestAsync<Samsa.Protocol.Messages.AlterClientQuotasResponse>(Samsa.Protocol.ApiKey.AlterClientQuotas, 1,
            new Samsa.Protocol.Messages.AlterClientQuotasRequest { Entries = [quota] });
        Assert.Equal(0, Assert.Single(altered.Entries).ErrorCode);
        try
        {
            // ~61 kB over the 10 s window is 6.1 kB/s: alice (5 kB/s) is throttled ~2 s, bob has no quota.
            Assert.InRange(await ProduceThrottleAsync("alice"), 1_000, 3_000);
            Assert.Equal(0, await ProduceThrottleAsync("bob"));
        }
        finally
        {
            quota.Ops[0].Remove = true;
            await admin.RequestAsync<Samsa.Protocol.Messages.AlterClientQuotasResponse>(Samsa.Protocol.ApiKey.AlterClientQuotas, 1,
                new Samsa.Protocol.Messages.AlterClientQuotasRequest { Entries = [quota] });
        }
    }

    private async Task<int> ProduceThrottleAsync(string user)
    {
        await using var raw = await RawAsAsync(user);
        var response = await raw.RequestAsync<Samsa.Protocol.Messages.ProduceResponse>(Samsa.Protocol.ApiKey.Produce, 9, new Samsa.Protocol.Messages.ProduceRequest
        {
            Acks = -1, TimeoutMs = 5000,
            TopicData = [new() { Name = "metered", PartitionData = [new() { Index = 0, Records = BadInputHelpers.Batch(60, 1000) }] }],
        });
        Assert.Equal(0, response.Responses[0].PartitionResponses[0].ErrorCode);
        return response.ThrottleTimeMs;
    }

    /// <summary>A raw connection authenticated with SASL PLAIN (SaslHandshake v1, SaslAuthenticate v2).</summary>
    private async Task<RawKafkaClient> RawAsAsync(string user)
    {
        var raw = await RawKafkaClient.ConnectAsync(fixture.Broker);
        var handshake = await raw.RequestAsync<Samsa.Protocol.Messages.SaslHandshakeResponse>(Samsa.Protocol.ApiKey.SaslHandshake, 1,
            new Samsa.Protocol.Messages.SaslHandshakeRequest { Mechanism = "PLAIN" });
        Assert.Equal(0, handshake.ErrorCode);
        var authenticated = await raw.RequestAsync<Samsa.Protocol.Messages.SaslAuthenticateResponse>(Samsa.Protocol.ApiKey.SaslAuthenticate, 2,
            new Samsa.Protocol.Messages.SaslAuthenticateRequest { AuthBytes = System.Text.Encoding.UTF8.GetBytes($"\0{user}\0{user}-secret") });
        Assert.Equal(0, authenticated.ErrorCode);
        return raw;
    }
}
