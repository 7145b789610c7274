using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>
/// Three nodes whose only Kafka listener (also the inter-broker listener) is SASL_PLAINTEXT: controller forwarding and
/// replica fetching authenticate with the broker's own JAAS credentials (sasl.mechanism.inter.broker.protocol=PLAIN),
/// and a SCRAM user created on one node (a replicated metadata record) produces with acks=all and reads back on another.
/// </summary>
public sealed class SaslClusterTests
{
    private const string Jaas =
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"broker-secret\" " +
        "user_broker=\"broker-secret\" user_admin=\"admin-secret\";";

    private static T Sasl<T>(T config, string bootstrap, SaslMechanism mechanism, string user, string password) where T : ClientConfig
    {
        config.BootstrapServers = bootstrap;
        config.SecurityProtocol = SecurityProtocol.SaslPlaintext;
        config.SaslMechanism = mechanism;
        config.SaslUsername = user;
        config.SaslPassword = password;
        return config;
    }

    [Fact]
    public async Task Inter_broker_traffic_and_scram_users_work_on_a_sasl_only_cluster()
    {
        await using var cluster = new ClusterFixture(extraConfig: new Dictionary<string, string>
        {
            ["listener.security.protocol.map"] = "PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            ["sasl.enabled.mechanisms"] = "PLAIN,SCRAM-SHA-512",
            ["sasl.mechanism.inter.broker.protocol"] = "PLAIN",
            ["listener.name.plaintext.plain.sasl.jaas.config"] = Jaas,
        });
        cluster.StartAll();
        var first = cluster.Node(1);
        var other = cluster.Node(3);

        // Formation seen through an authenticated admin: every node registered (the brokers reached the controller).
        using (var admin = new AdminClientBuilder(Sasl(new AdminClientConfig { SocketTimeoutMs = 20000 }, first.Bootstrap, SaslMechanism.Plain, "admin", "admin-secret"))
                   .SetLogHandler((_, _) => { }).Build())
        {
            await ClusterFixture.WaitForAsync("3 brokers", TimeSpan.FromSeconds(30), () => admin.GetMetadata(TimeSpan.FromSeconds(3)).Brokers.Count == 3 ? admin : null);
            await ClusterFixture.WaitForAsync("the SCRAM user to be created", TimeSpan.FromSeconds(30), async () =>
            {
                await admin.AlterUserScramCredentialsAsync([new UserScramCredentialUpsertion
                {
                    User = "app",
                    ScramCredentialInfo = new ScramCredentialInfo { Mechanism = ScramMechanism.ScramSha512, Iterations = 4096 },
                    Password = "app-secret"u8.ToArray(),
                    Salt = "0123456789abcdef"u8.ToArray(),
                }]);
                return admin;
            });
            await ClusterFixture.WaitForAsync("the topic to be created", TimeSpan.FromSeconds(30), async () =>
            {
                try
                {
                    await admin.CreateTopicsAsync([new TopicSpecification { Name = "secured", NumPartitions = 1, ReplicationFactor = 3 }]);
                }
                catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
                {
                }
                return admin;
            });
        }

        // The SCRAM user (replicated to node 3's image) writes through node 3 with acks=all: followers fetched over SASL.
        var producerConfig = Sasl(new ProducerConfig { Acks = Acks.All, MessageTimeoutMs = 20000 }, other.Bootstrap, SaslMechanism.ScramSha512, "app", "app-secret");
        using (var producer = new ProducerBuilder<Null, string>(producerConfig).Build())
        {
            for (int i = 0; i < 10; i++)
            {
                var result = await producer.ProduceAsync("secured", new Message<Null, string> { Value = $"r{i}" });
                Assert.Equal(PersistenceStatus.Persisted, result.Status);
            }
        }

        var consumerConfig = Sasl(new ConsumerConfig { GroupId = "secured-reader", AutoOffsetReset = AutoOffsetReset.Earliest }, first.Bootstrap,
            SaslMechanism.ScramSha512, "app", "app-secret");
        using var consumer = new ConsumerBuilder<Null, string>(consumerConfig).Build();
        consumer.Assign(new TopicPartitionOffset("secured", 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (values.Count < 10 && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } message) values.Add(message.Message.Value);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"r{i}"), values);
        // No node ever saw an unauthenticated inter-broker request (the gate would have closed it and said so), and
        // no secret reached a log.
        foreach (var node in cluster.Nodes)
        {
            string log = node.ReadLog();
            Assert.DoesNotContain("before SASL authentication", log);
            Assert.DoesNotContain("Failed authentication", log);
            Assert.DoesNotContain("broker-secret", log);
            Assert.DoesNotContain("app-secret", log);
        }
    }
}
