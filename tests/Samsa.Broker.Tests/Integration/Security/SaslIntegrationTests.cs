using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// SASL end to end with Confluent.Kafka (librdkafka) over real sockets: SCRAM users created through
/// AlterUserScramCredentials, PLAIN users from the listener's JAAS entry, on SASL_SSL (PEM key store) and SASL_PLAINTEXT.
/// </summary>
public sealed class SaslIntegrationTests
{
    [Theory]
    [InlineData(ScramMechanism.ScramSha512, SaslMechanism.ScramSha512)]
    [InlineData(ScramMechanism.ScramSha256, SaslMechanism.ScramSha256)]
    public async Task Scram_user_created_through_the_admin_api_produces_and_consumes_over_sasl_ssl(ScramMechanism scram, SaslMechanism sasl)
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        using (var admin = new AdminClientBuilder(Secure.SaslSsl(new AdminClientConfig(), broker, pki, SaslMechanism.Plain, Secure.AdminUser, Secure.AdminPassword)).Build())
        {
            await Secure.CreateScramUserAsync(admin, "alice", "alice-secret", scram, iterations: 8192);
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "scram-topic", NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        var values = await Secure.RoundTripAsync(c => Secure.SaslSsl(c, broker, pki, sasl, "alice", "alice-secret"), "scram-topic", 20);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"v{i}"), values);
        // A connection authenticated as the SCRAM user carries its principal (what the authorizer sees).
        using var producer = new ProducerBuilder<Null, string>(Secure.SaslSsl(new ProducerConfig(), broker, pki, sasl, "alice", "alice-secret")).Build();
        await producer.ProduceAsync("scram-topic", new Message<Null, string> { Value = "one more" });
        Assert.Contains(broker.Host.ListenerSecurity["SASL_SSL"].Sessions, s => s.Principal.ToString() == "User:alice");
    }

    [Fact]
    public async Task Plain_user_from_the_jaas_config_produces_and_consumes_on_both_sasl_listeners()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));

        var overTls = await Secure.RoundTripAsync(c => Secure.SaslSsl(c, broker, pki, SaslMechanism.Plain, "bob", "bob-secret"), "plain-tls", 10);
        var overPlaintext = await Secure.RoundTripAsync(c => Secure.SaslPlaintext(c, broker, SaslMechanism.Plain, "bob", "bob-secret"), "plain-tcp", 10);

        Assert.Equal(10, overTls.Count);
        Assert.Equal(10, overPlaintext.Count);
    }

    [Theory]
    [InlineData(SaslMechanism.Plain)]
    [InlineData(SaslMechanism.ScramSha512)]
    public async Task Wrong_password_gets_an_authentication_error_and_moves_no_records(SaslMechanism mechanism)
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        var adminConfig = Secure.SaslSsl(new AdminClientConfig(), broker, pki, SaslMechanism.Plain, Secure.AdminUser, Secure.AdminPassword);
        using (var admin = new AdminClientBuilder(adminConfig).Build())
        {
            await Secure.CreateScramUserAsync(admin, "bob", "bob-secret", ScramMechanism.ScramSha512);
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "guarded", NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        var errors = new List<Error>();
        var config = Secure.SaslSsl(new ProducerConfig { MessageTimeoutMs = 3000 }, broker, pki, mechanism, "bob", "wrong-password");
        using (var producer = new ProducerBuilder<Null, string>(config).SetErrorHandler((_, e) => { lock (errors) errors.Add(e); }).Build())
        {
            var failure = await Assert.ThrowsAsync<ProduceException<Null, string>>(() =>
                producer.ProduceAsync("guarded", new Message<Null, string> { Value = "must not land" }));
            Assert.True(failure.Error.IsError);
        }

        lock (errors)
        {
            var authentication = errors.FirstOrDefault(e => e.Code == ErrorCode.Local_Authentication);
            Assert.NotNull(authentication);
            // librdkafka relays the broker's SASL_AUTHENTICATION_FAILED message, which names no secret.
            Assert.Contains("Authentication failed", authentication.Reason);
            Assert.DoesNotContain("wrong-password", authentication.Reason);
        }
        Assert.Equal(0, Secure.HighWatermark(Secure.SaslSsl(new ClientConfig(), broker, pki, SaslMechanism.Plain, Secure.AdminUser, Secure.AdminPassword), "guarded"));
        Assert.Contains(broker.Logs.Lines, l => l.Contains("Failed authentication", StringComparison.Ordinal));
        Assert.DoesNotContain(broker.Logs.Lines, l => l.Contains("wrong-password", StringComparison.Ordinal) || l.Contains("bob-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Admin_client_with_a_wrong_password_gets_the_authentication_error()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        var config = Secure.SaslPlaintext(new AdminClientConfig(), broker, SaslMechanism.Plain, Secure.AdminUser, "nope");
        using var admin = new AdminClientBuilder(config).Build();

        var failure = await Assert.ThrowsAnyAsync<KafkaException>(() =>
            admin.DescribeUserScramCredentialsAsync([], new DescribeUserScramCredentialsOptions { RequestTimeout = TimeSpan.FromSeconds(5) }));

        Assert.True(failure.Error.Code is ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_TimedOut,
            $"unexpected {failure.Error.Code}: {failure.Error.Reason}");
        Assert.Contains(broker.Logs.Lines, l => l.Contains("Failed authentication", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Clients_reauthenticate_when_the_session_lifetime_ends_and_keep_producing()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki, new() { ["connections.max.reauth.ms"] = "1000" }));
        var config = Secure.SaslPlaintext(new ProducerConfig { Acks = Acks.All }, broker, SaslMechanism.Plain, "bob", "bob-secret");
        using var producer = new ProducerBuilder<Null, string>(config).Build();

        // Produce for more than three session lifetimes on the same connections: librdkafka re-authenticates (KIP-368);
        // a connection that did not would be closed by the broker at its first request after expiry.
        var started = DateTime.UtcNow;
        int sent = 0;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(3.5))
        {
            await producer.ProduceAsync("reauth", new Message<Null, string> { Value = $"r{sent}" });
            sent++;
        }

        Assert.Equal(sent, Secure.HighWatermark(Secure.SaslPlaintext(new ClientConfig(), broker, SaslMechanism.Plain, "bob", "bob-secret"), "reauth"));
        Assert.DoesNotContain(broker.Logs.Lines, l => l.Contains("after the SASL session expired", StringComparison.Ordinal));
    }
}
