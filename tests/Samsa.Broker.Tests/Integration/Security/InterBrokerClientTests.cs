using System.Collections;
using Confluent.Kafka;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security.Authentication;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using SecurityProtocol = Samsa.Broker.Configuration.SecurityProtocol;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// The broker's own client side: ClientSecurity.InterBroker reads inter.broker.listener.name's credentials (JAAS
/// username/password for sasl.mechanism.inter.broker.protocol, PEM trust store) and SecureClientConnection uses them
/// (TLS + SASL) to talk to the listener, as the replication and controller clients will.
/// </summary>
public sealed class InterBrokerClientTests
{
    [Fact]
    public async Task Inter_broker_settings_authenticate_on_the_sasl_ssl_listener()
    {
        using var pki = TestCertificates.Create();
        var values = Secure.SaslBroker(pki, new()
        {
            ["inter.broker.listener.name"] = "SASL_SSL",
            ["sasl.mechanism.inter.broker.protocol"] = "PLAIN",
            ["ssl.truststore.type"] = "PEM",
            ["ssl.truststore.location"] = pki.CaPem,
        });
        await using var broker = await TestBroker.StartAsync(values);
        values["log.dirs"] = broker.DataDir;
        var security = ClientSecurity.InterBroker(BrokerConfig.Load(null, values, new Hashtable()));

        Assert.Equal(SecurityProtocol.SaslSsl, security.Protocol);
        Assert.Equal(("PLAIN", Secure.AdminUser, Secure.AdminPassword), (security.SaslMechanism, security.SaslUsername, security.SaslPassword));
        Assert.DoesNotContain(Secure.AdminPassword, security.ToString());
        await using var connection = await SecureClientConnection.ConnectAsync("127.0.0.1", Secure.Endpoint(broker, 0).Port, security, "inter-broker", default);
        var metadata = await connection.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = [] }, "inter-broker", default);
        Assert.Single(metadata.Brokers);
        Assert.Contains(broker.Host.ListenerSecurity["SASL_SSL"].Sessions, s => s.Principal.ToString() == "User:" + Secure.AdminUser);
    }

    [Fact]
    public async Task Scram_client_authenticates_over_tls_and_a_wrong_password_is_refused()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        using (var admin = new AdminClientBuilder(Secure.SaslPlaintext(new AdminClientConfig(), broker, SaslMechanism.Plain, Secure.AdminUser, Secure.AdminPassword)).Build())
            await Secure.CreateScramUserAsync(admin, "replicator", "r-secret", Confluent.Kafka.Admin.ScramMechanism.ScramSha512);
        int port = Secure.Endpoint(broker, 0).Port;

        var good = new ClientSecurity(SecurityProtocol.SaslSsl, "SCRAM-SHA-512", "replicator", "r-secret", SslCaLocation: pki.CaPem);
        await using (var connection = await SecureClientConnection.ConnectAsync("127.0.0.1", port, good, "t", default))
            Assert.NotNull(await connection.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = [] }, "t", default));

        await Assert.ThrowsAsync<SaslAuthenticationException>(() =>
            SecureClientConnection.ConnectAsync("127.0.0.1", port, good with { SaslPassword = "nope" }, "t", default));
        // Without the CA the broker's certificate is not trusted.
        await Assert.ThrowsAnyAsync<System.Security.Authentication.AuthenticationException>(() =>
            SecureClientConnection.ConnectAsync("127.0.0.1", port, good with { SslCaLocation = null }, "t", default));
    }
}
