using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Samsa.Broker.Configuration;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// How Samsa itself connects to a Kafka listener as a client, in librdkafka's terms: security.protocol,
/// sasl.mechanism/username/password, ssl.ca.location, ssl.certificate.location/ssl.key.location (mTLS) and whether the
/// broker's host name is checked (ssl.endpoint.identification.algorithm=https, the default).
/// </summary>
internal sealed record ClientSecurity(
    SecurityProtocol Protocol,
    string? SaslMechanism = null,
    string? SaslUsername = null,
    string? SaslPassword = null,
    string? SslCaLocation = null,
    string? SslCertificateLocation = null,
    string? SslKeyLocation = null,
    bool VerifyHostname = true)
{
    public static readonly ClientSecurity Plaintext = new(SecurityProtocol.Plaintext);

    // Never print the password.
    public override string ToString() => $"{Protocol.ToKafkaName()}{(SaslMechanism is null ? "" : $" {SaslMechanism} as {SaslUsername}")}";

    /// <summary>From librdkafka-style properties (a client profile, -X settings); unknown keys are ignored.</summary>
    public static ClientSecurity FromClientProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var p = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in properties) p[k] = v;
        if (!SecurityProtocolNames.TryParse(p.GetValueOrDefault("security.protocol") ?? "PLAINTEXT", out var protocol))
            throw new ArgumentException($"security.protocol '{p["security.protocol"]}' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
        return new ClientSecurity(protocol,
            (p.GetValueOrDefault("sasl.mechanism") ?? p.GetValueOrDefault("sasl.mechanisms") ?? "GSSAPI").ToUpperInvariant(),
            p.GetValueOrDefault("sasl.username"), p.GetValueOrDefault("sasl.password"),
            p.GetValueOrDefault("ssl.ca.location"), p.GetValueOrDefault("ssl.certificate.location"), p.GetValueOrDefault("ssl.key.location"),
            !string.Equals(p.GetValueOrDefault("ssl.endpoint.identification.algorithm"), "none", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// This broker's settings as a client of the inter-broker listener (inter.broker.listener.name): SASL with
    /// sasl.mechanism.inter.broker.protocol and the username/password of that listener's JAAS entry for it, TLS
    /// trusting the listener's trust store (PEM) and presenting its key store as the client certificate when it is a
    /// PEM file. For the replication and controller clients.
    /// </summary>
    public static ClientSecurity InterBroker(BrokerConfig config)
    {
        var listener = config.Listeners.First(l => l.Name == config.InterBrokerListenerName);
        var lookup = new ListenerConfigLookup(config, listener.Name);
        bool sasl = listener.SecurityProtocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl;
        bool tls = listener.SecurityProtocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl;
        string mechanism = (config.GetString("sasl.mechanism.inter.broker.protocol") ?? "PLAIN").ToUpperInvariant();
        JaasConfig? jaas = null;
        if (sasl && lookup.GetPrefixedOnly($"{mechanism.ToLowerInvariant()}.sasl.jaas.config") is { } text)
            jaas = JaasConfig.Parse($"listener.name.{listener.Name.ToLowerInvariant()}.{mechanism.ToLowerInvariant()}.sasl.jaas.config", text);
        bool pemKeyStore = lookup.Get("ssl.keystore.type") == "PEM" && lookup.Get("ssl.keystore.location") is not null;
        return new ClientSecurity(listener.SecurityProtocol,
            sasl ? mechanism : null, jaas?.Username, jaas?.Password,
            tls && lookup.Get("ssl.truststore.type") == "PEM" ? lookup.Get("ssl.truststore.location") : null,
            tls && pemKeyStore ? lookup.Get("ssl.keystore.location") : null,
            tls && pemKeyStore ? lookup.Get("ssl.keystore.location") : null);
    }
}

/// <summary>
/// One client connection to a Kafka listener speaking Samsa's own codec: TCP, TLS when the protocol asks for it, then
/// SaslHandshake v1 + SaslAuthenticate v2 when it is a SASL protocol. Requests are sequential (not thread-safe).
/// For Samsa's own clients where librdkafka does not fit (inter-broker, a CLI call Confluent.Kafka mishandles).
/// </summary>
internal sealed class SecureClientConnection : IAsyncDisposable
{
    private const int MaxResponseBytes = 100 << 20;
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private int _correlationId;

    private SecureClientConnection(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    public static async Task<SecureClientConnection> ConnectAsync(string host, int port, ClientSecurity security, string clientId, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, ct).ConfigureAwait(false);
            var stream = await SecureAsync(tcp.GetStream(), host, security, clientId, ct).ConfigureAwait(false);
            return new SecureClientConnection(tcp, stream);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs TLS and SASL (as <paramref name="security"/> asks) over a connected stream and returns the stream to send
    /// Kafka requests on (the SslStream when TLS is on). Disposes <paramref name="connected"/> on failure.
    /// </summary>
    public static async Task<Stream> SecureAsync(Stream connected, string host, ClientSecurity security, string clientId, CancellationToken ct)
    {
        Stream stream = connected;
        try
        {
            if (security.Protocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl)
                stream = await StartTlsAsync(stream, host, security, ct).ConfigureAwait(false);
            if (security.Protocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl)
                await AuthenticateAsync(stream, security, clientId, ct).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Stream> StartTlsAsync(Stream inner, string host, ClientSecurity security, CancellationToken ct)
    {
        X509Certificate2Collection? trust = null;
        if (security.SslCaLocation is { } ca)
        {
            trust = [];
            trust.ImportFromPemFile(ca);
        }
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is not X509Certificate2 server) return false;
                if (security.VerifyHostname && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                if (trust is null) return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trust);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(server);
            },
        };
        if (security.SslCertificateLocation is { } cert)
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(cert, security.SslKeyLocation ?? cert)];
        var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
        return tls;
    }

    private static async Task AuthenticateAsync(Stream stream, ClientSecurity security, string clientId, CancellationToken ct)
    {
        string mechanism = security.SaslMechanism ?? "PLAIN";
        var client = SaslClients.Create(mechanism, security.SaslUsername ?? "", security.SaslPassword ?? "");
        int correlationId = 0;
        var handshake = await RoundTripAsync<SaslHandshakeResponse>(stream, ApiKey.SaslHandshake, 1,
            new SaslHandshakeRequest { Mechanism = mechanism }, ++correlationId, clientId, ct).ConfigureAwait(false);
        if (handshake.ErrorCode != 0)
            throw new SaslAuthenticationException($"SASL mechanism {mechanism} refused (error {handshake.ErrorCode}); the broker offers {string.Join(", ", handshake.Mechanisms)}");
        byte[] token = client.Next([]);
        while (true)
        {
            var response = await RoundTripAsync<SaslAuthenticateResponse>(stream, ApiKey.SaslAuthenticate, 2,
                new SaslAuthenticateRequest { AuthBytes = token }, ++correlationId, clientId, ct).ConfigureAwait(false);
            if (response.ErrorCode != 0) throw new SaslAuthenticationException(response.ErrorMessage ?? $"SASL authentication failed (error {response.ErrorCode})");
            if (client.IsComplete) return;
            token = client.Next(response.AuthBytes);
            if (client.IsComplete && token.Length == 0) return;
        }
    }

    public Task<T> RequestAsync<T>(ApiKey apiKey, short version, object body, string clientId, CancellationToken ct) where T : class, new() =>
        RoundTripAsync<T>(_stream, apiKey, version, body, ++_correlationId, clientId, ct);

    private static async Task<T> RoundTripAsync<T>(Stream stream, ApiKey apiKey, short version, object body, int correlationId, string clientId, CancellationToken ct)
        where T : class, new()
    {
        var buffer = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(buffer, new RequestHeader(apiKey, version, correlationId, clientId), body);
        await stream.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        var prefix = new byte[4];
        await stream.ReadExactlyAsync(prefix, ct).ConfigureAwait(false);
        int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size is < 4 or > MaxResponseBytes) throw new ProtocolException($"Response size {size} out of range");
        var frame = new byte[size];
        await stream.ReadExactlyAsync(frame, ct).ConfigureAwait(false);
        var (gotCorrelation, response) = KafkaFrames.ReadResponse<T>(frame, apiKey, version);
        if (gotCorrelation != correlationId) throw new ProtocolException($"Response correlation id {gotCorrelation}, expected {correlationId}");
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}
