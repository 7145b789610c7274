using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// Throwaway PKI for TLS tests, generated per test run into a temp directory as PEM files: a CA, a broker certificate
/// for 127.0.0.1/localhost signed by it, a client certificate (CN=alice,OU=eng,O=Samsa Test) signed by it, and a
/// client certificate from an unrelated CA (must be refused).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string ClientSubject = "CN=alice,OU=eng,O=Samsa Test";

    private TestCertificates(string dir) => Directory = dir;

    public string Directory { get; }
    public string CaPem => Path.Combine(Directory, "ca.pem");
    /// <summary>Broker certificate chain and key in one PEM file (Kafka's ssl.keystore.type=PEM with ssl.keystore.location).</summary>
    public string BrokerPem => Path.Combine(Directory, "broker.pem");
    public string BrokerCertPem => Path.Combine(Directory, "broker-cert.pem");
    public string BrokerKeyPem => Path.Combine(Directory, "broker-key.pem");
    public string ClientCertPem => Path.Combine(Directory, "client-cert.pem");
    public string ClientKeyPem => Path.Combine(Directory, "client-key.pem");
    public string StrangerCertPem => Path.Combine(Directory, "stranger-cert.pem");
    public string StrangerKeyPem => Path.Combine(Directory, "stranger-key.pem");

    public static TestCertificates Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "samsa-pki-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        var pki = new TestCertificates(dir);
        var now = DateTimeOffset.UtcNow;

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Samsa Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        File.WriteAllText(pki.CaPem, ca.ExportCertificatePem());

        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        var (brokerCert, brokerKey) = Issue(ca, caKey, "CN=samsa-broker", "1.3.6.1.5.5.7.3.1", san.Build(), now);
        File.WriteAllText(pki.BrokerCertPem, brokerCert);
        File.WriteAllText(pki.BrokerKeyPem, brokerKey);
        File.WriteAllText(pki.BrokerPem, brokerCert + "\n" + brokerKey);

        var (clientCert, clientKey) = Issue(ca, caKey, ClientSubject, "1.3.6.1.5.5.7.3.2", null, now);
        File.WriteAllText(pki.ClientCertPem, clientCert);
        File.WriteAllText(pki.ClientKeyPem, clientKey);

        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherRequest = new CertificateRequest("CN=Other CA", otherKey, HashAlgorithmName.SHA256);
        otherRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        otherRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var other = otherRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        var (strangerCert, strangerKey) = Issue(other, otherKey, "CN=mallory", "1.3.6.1.5.5.7.3.2", null, now);
        File.WriteAllText(pki.StrangerCertPem, strangerCert);
        File.WriteAllText(pki.StrangerKeyPem, strangerKey);
        return pki;
    }

    private static (string Cert, string Key) Issue(X509Certificate2 issuer, ECDsa issuerKey, string subject, string eku,
        X509Extension? san, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
        if (san is not null) request.CertificateExtensions.Add(san);
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var cert = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), now.AddDays(-1), now.AddDays(10), serial);
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Broker configs and client configs for the security tests.</summary>
public static class Secure
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "admin-secret";

    /// <summary>PLAIN users of the listener's JAAS entry (Kafka's syntax): admin and bob.</summary>
    public static string PlainJaas =>
        $"org.apache.kafka.common.security.plain.PlainLoginModule required username=\"{AdminUser}\" password=\"{AdminPassword}\" " +
        $"user_{AdminUser}=\"{AdminPassword}\" user_bob=\"bob-secret\";";

    /// <summary>One SASL_SSL listener (PEM key store) and one SASL_PLAINTEXT listener, in that order.</summary>
    public static Dictionary<string, string> SaslBroker(TestCertificates pki, Dictionary<string, string>? extra = null)
    {
        var config = new Dictionary<string, string>
        {
            ["listeners"] = "SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
            ["inter.broker.listener.name"] = "SASL_PLAINTEXT",
            ["sasl.enabled.mechanisms"] = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            ["listener.name.sasl_ssl.plain.sasl.jaas.config"] = PlainJaas,
            ["listener.name.sasl_plaintext.plain.sasl.jaas.config"] = PlainJaas,
            ["ssl.keystore.type"] = "PEM",
            ["ssl.keystore.location"] = pki.BrokerPem,
        };
        if (extra is not null)
            foreach (var (k, v) in extra) config[k] = v;
        return config;
    }

    /// <summary>Creates a one-partition topic with a raw CreateTopics on a PLAINTEXT (or authenticated) connection.</summary>
    public static async Task CreateTopicRawAsync(IPEndPoint endpoint, string topic)
    {
        await using var client = await RawKafkaClient.ConnectAsync(endpoint);
        var created = await client.RequestAsync<Samsa.Protocol.Messages.CreateTopicsResponse>(Samsa.Protocol.ApiKey.CreateTopics, 7,
            new Samsa.Protocol.Messages.CreateTopicsRequest { Topics = [new() { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }], TimeoutMs = 5000 });
        Assert.Equal(0, created.Topics[0].ErrorCode);
    }

    public static IPEndPoint Endpoint(TestBroker broker, int listener) => broker.Host.BoundEndpoints[listener];

    public static string Bootstrap(TestBroker broker, int listener) => $"127.0.0.1:{broker.Host.BoundEndpoints[listener].Port}";

    public static T SaslSsl<T>(T config, TestBroker broker, TestCertificates pki, SaslMechanism mechanism, string user, string password)
        where T : ClientConfig
    {
        config.BootstrapServers = Bootstrap(broker, 0);
        config.SecurityProtocol = SecurityProtocol.SaslSsl;
        config.SaslMechanism = mechanism;
        config.SaslUsername = user;
        config.SaslPassword = password;
        config.SslCaLocation = pki.CaPem;
        return config;
    }

    public static T SaslPlaintext<T>(T config, TestBroker broker, SaslMechanism mechanism, string user, string password) where T : ClientConfig
    {
        config.BootstrapServers = Bootstrap(broker, 1);
        config.SecurityProtocol = SecurityProtocol.SaslPlaintext;
        config.SaslMechanism = mechanism;
        config.SaslUsername = user;
        config.SaslPassword = password;
        return config;
    }

    /// <summary>Creates (or replaces) a SCRAM user through AlterUserScramCredentials with the given admin client.</summary>
    public static Task CreateScramUserAsync(IAdminClient admin, string user, string password, ScramMechanism mechanism, int iterations = 4096) =>
        admin.AlterUserScramCredentialsAsync(
        [
            new UserScramCredentialUpsertion
            {
                User = user,
                ScramCredentialInfo = new ScramCredentialInfo { Mechanism = mechanism, Iterations = iterations },
                Password = System.Text.Encoding.UTF8.GetBytes(password),
                Salt = RandomNumberGenerator.GetBytes(16),
            },
        ]);

    /// <summary>Produces <paramref name="count"/> records and consumes them back; returns the values read.</summary>
    public static async Task<List<string>> RoundTripAsync(Func<ClientConfig, ClientConfig> secure, string topic, int count)
    {
        var producerConfig = (ProducerConfig)secure(new ProducerConfig { Acks = Acks.All, LingerMs = 0 });
        using (var producer = new ProducerBuilder<Null, string>(producerConfig).Build())
        {
            for (int i = 0; i < count; i++)
                await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" });
        }
        var consumerConfig = (ConsumerConfig)secure(new ConsumerConfig
        {
            GroupId = "g-" + Guid.NewGuid().ToString("N")[..8], AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        });
        using var consumer = new ConsumerBuilder<Null, string>(consumerConfig).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (values.Count < count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message is not null) values.Add(result.Message.Value);
        }
        return values;
    }

    /// <summary>The log end offset of partition 0 of a topic, read with an authenticated admin-side consumer.</summary>
    public static long HighWatermark(ClientConfig authenticated, string topic)
    {
        var config = new ConsumerConfig(authenticated.ToDictionary(kv => kv.Key, kv => kv.Value)) { GroupId = "hw-" + Guid.NewGuid().ToString("N")[..8] };
        using var consumer = new ConsumerBuilder<Null, string>(config).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).High.Value;
    }
}
