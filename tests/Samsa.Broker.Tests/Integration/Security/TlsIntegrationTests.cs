using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Confluent.Kafka;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// TLS listeners through Kestrel with certificates generated for the test: plaintext bytes on a TLS port never reach
/// the Kafka handler, and with ssl.client.auth=required only clients holding a certificate from the trust store connect,
/// with the certificate subject as their principal.
/// </summary>
public sealed class TlsIntegrationTests
{
    private static Dictionary<string, string> SslBroker(TestCertificates pki, string clientAuth) => new()
    {
        ["listeners"] = "SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
        ["ssl.keystore.type"] = "PEM",
        ["ssl.keystore.certificate.chain"] = File.ReadAllText(pki.BrokerCertPem),
        ["ssl.keystore.key"] = File.ReadAllText(pki.BrokerKeyPem),
        ["ssl.truststore.type"] = "PEM",
        ["ssl.truststore.location"] = pki.CaPem,
        ["ssl.client.auth"] = clientAuth,
    };

    private static ProducerConfig SslProducer(TestBroker broker, TestCertificates pki, bool withCertificate, bool stranger = false)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = Secure.Bootstrap(broker, 0),
            SecurityProtocol = SecurityProtocol.Ssl,
            SslCaLocation = pki.CaPem,
            MessageTimeoutMs = 4000,
            SocketConnectionSetupTimeoutMs = 3000,
        };
        if (withCertificate)
        {
            config.SslCertificateLocation = stranger ? pki.StrangerCertPem : pki.ClientCertPem;
            config.SslKeyLocation = stranger ? pki.StrangerKeyPem : pki.ClientKeyPem;
        }
        return config;
    }

    [Fact]
    public async Task Plaintext_bytes_on_a_tls_port_never_reach_a_handler()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(SslBroker(pki, "none"));
        await Secure.CreateTopicRawAsync(Secure.Endpoint(broker, 1), "tls-guarded");
        long connectionsBefore = broker.Host.Metrics.ConnectionsTotal;

        // A plaintext Kafka client talking to the TLS port: ApiVersions, then a Produce, as raw frames.
        await using (var client = await RawKafkaClient.ConnectAsync(Secure.Endpoint(broker, 0)))
        {
            await client.SendAsync(ApiKey.ApiVersions, 3, new ApiVersionsRequest());
            await client.SendAsync(ApiKey.Produce, 9, BadInputHelpers.ProduceRequest("tls-guarded", 0, BadInputHelpers.Batch(), acks: 1));
            Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(15)), "the TLS port must close a plaintext connection");
        }

        // The Kafka connection handler never saw it, nothing was appended, and the TLS listener still serves.
        Assert.Equal(connectionsBefore, broker.Host.Metrics.ConnectionsTotal);
        await using (var plain = await RawKafkaClient.ConnectAsync(Secure.Endpoint(broker, 1)))
            Assert.Equal(0, await BadInputHelpers.LatestOffsetAsync(plain, "tls-guarded", 0));
        using var producer = new ProducerBuilder<Null, string>(SslProducer(broker, pki, withCertificate: false)).Build();
        var delivered = await producer.ProduceAsync("tls-guarded", new Message<Null, string> { Value = "over tls" });
        Assert.Equal(0, delivered.Offset.Value);
    }

    [Fact]
    public async Task Mutual_tls_refuses_clients_without_a_trusted_certificate_and_maps_the_subject_to_the_principal()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(SslBroker(pki, "required"));

        // No certificate: the TLS handshake fails, nothing is delivered.
        using (var anonymous = new ProducerBuilder<Null, string>(SslProducer(broker, pki, withCertificate: false)).Build())
            await Assert.ThrowsAsync<ProduceException<Null, string>>(() => anonymous.ProduceAsync("mtls", new Message<Null, string> { Value = "x" }));
        // A certificate from another CA: refused as well.
        using (var stranger = new ProducerBuilder<Null, string>(SslProducer(broker, pki, withCertificate: true, stranger: true)).Build())
            await Assert.ThrowsAsync<ProduceException<Null, string>>(() => stranger.ProduceAsync("mtls", new Message<Null, string> { Value = "x" }));
        Assert.Empty(broker.Host.ListenerSecurity["SSL"].Sessions);

        // With the CA-signed client certificate the client connects, and its principal is the subject DN (Kafka's DEFAULT rule).
        using var trusted = new ProducerBuilder<Null, string>(SslProducer(broker, pki, withCertificate: true)).Build();
        var delivered = await trusted.ProduceAsync("mtls", new Message<Null, string> { Value = "with certificate" });
        Assert.Equal(0, delivered.Offset.Value);
        var principals = broker.Host.ListenerSecurity["SSL"].Sessions.Select(s => s.Principal.ToString()).Distinct().ToList();
        Assert.Equal(["User:" + TestCertificates.ClientSubject], principals);
    }

    [Fact]
    public async Task Principal_mapping_rules_rewrite_the_certificate_subject()
    {
        using var pki = TestCertificates.Create();
        var config = SslBroker(pki, "required");
        config["ssl.principal.mapping.rules"] = "RULE:^CN=([a-z]+),OU=eng,.*$/$1-engineer/U,DEFAULT";
        await using var broker = await TestBroker.StartAsync(config);

        // A raw TLS connection with the client certificate, kept open while the principal is read.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Secure.Endpoint(broker, 0));
        await using var tls = new SslStream(tcp.GetStream());
        using var clientCertificate = X509Certificate2.CreateFromPemFile(pki.ClientCertPem, pki.ClientKeyPem);
        var ca = X509CertificateLoader.LoadCertificateFromFile(pki.CaPem);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [clientCertificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is X509Certificate2 c && chain.Build(c);
            },
        });
        var frame = RawKafkaClient.Frame(ApiKey.ApiVersions, 3, new ApiVersionsRequest(), 1);
        await tls.WriteAsync(frame);
        var size = new byte[4];
        await tls.ReadExactlyAsync(size);
        Assert.True(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(size) > 0);

        Assert.Contains(broker.Host.ListenerSecurity["SSL"].Sessions, s => s.Principal.ToString() == "User:ALICE-ENGINEER");
    }
}
