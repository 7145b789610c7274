using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Security.Authentication;

public enum SslClientAuth
{
    None,
    Requested,
    Required,
}

/// <summary>
/// TLS of an SSL or SASL_SSL listener, from Kafka's settings: the key store is PEM (<c>ssl.keystore.type=PEM</c> with
/// <c>ssl.keystore.location</c> naming a file holding the certificate chain and the private key, or inline
/// <c>ssl.keystore.certificate.chain</c> + <c>ssl.keystore.key</c>) or PKCS12 (<c>ssl.keystore.location</c> +
/// <c>ssl.keystore.password</c>); an encrypted PEM key uses <c>ssl.key.password</c>. Client certificates
/// (<c>ssl.client.auth</c>) are verified against the trust store (PEM file, inline <c>ssl.truststore.certificates</c>,
/// or PKCS12), or the system roots when none is configured. JKS is not supported.
/// </summary>
internal sealed class TlsSettings
{
    private TlsSettings(X509Certificate2 certificate, X509Certificate2Collection chain, X509Certificate2Collection? trust,
        SslClientAuth clientAuth, SslProtocols protocols, PrincipalMapper mapper)
    {
        Certificate = certificate;
        Chain = chain;
        Trust = trust;
        ClientAuth = clientAuth;
        Protocols = protocols;
        PrincipalMapper = mapper;
    }

    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Chain { get; }
    public X509Certificate2Collection? Trust { get; }
    public SslClientAuth ClientAuth { get; }
    public SslProtocols Protocols { get; }
    public PrincipalMapper PrincipalMapper { get; }

    public static TlsSettings From(ListenerConfigLookup config)
    {
        var (certificate, chain) = LoadKeyStore(config);
        var trust = LoadTrustStore(config);
        var clientAuth = config.Get("ssl.client.auth") switch
        {
            "required" => SslClientAuth.Required,
            "requested" => SslClientAuth.Requested,
            _ => SslClientAuth.None,
        };
        var protocols = SslProtocols.None;
        foreach (var p in ConfigDefinition.SplitList(config.Get("ssl.enabled.protocols")))
            protocols |= p switch
            {
                "TLSv1.2" => SslProtocols.Tls12,
                "TLSv1.3" => SslProtocols.Tls13,
                _ => throw ConfigException.InvalidValue(config.KeyOf("ssl.enabled.protocols"), p, "TLSv1.2 and TLSv1.3 are supported"),
            };
        var mapper = PrincipalMapper.Parse(config.KeyOf("ssl.principal.mapping.rules"), config.Get("ssl.principal.mapping.rules"));
        return new TlsSettings(certificate, chain, trust, clientAuth, protocols, mapper);
    }

    /// <summary>Kestrel's TLS options for the listener: <c>listen.UseHttps(options)</c> before the Kafka handler.</summary>
    public HttpsConnectionAdapterOptions KestrelOptions() => new()
    {
        ServerCertificate = Certificate,
        ServerCertificateChain = Chain.Count > 0 ? Chain : null,
        SslProtocols = Protocols,
        CheckCertificateRevocation = false,
        HandshakeTimeout = TimeSpan.FromSeconds(10),
        ClientCertificateMode = ClientAuth switch
        {
            SslClientAuth.Required => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
            SslClientAuth.Requested => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
            _ => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.NoCertificate,
        },
        ClientCertificateValidation = (certificate, _, errors) => IsTrusted(certificate, errors),
    };

    /// <summary>A client certificate is accepted when it chains to the trust store (or, without one, to the system roots).</summary>
    private bool IsTrusted(X509Certificate2 certificate, System.Net.Security.SslPolicyErrors errors)
    {
        if (Trust is null) return errors == System.Net.Security.SslPolicyErrors.None;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static (X509Certificate2, X509Certificate2Collection) LoadKeyStore(ListenerConfigLookup config)
    {
        string type = config.Get("ssl.keystore.type") ?? "PKCS12";
        string? location = config.Get("ssl.keystore.location");
        string? inlineChain = config.Get("ssl.keystore.certificate.chain");
        string? inlineKey = config.Get("ssl.keystore.key");
        string? keyPassword = config.Get("ssl.key.password");
        try
        {
            if (inlineChain is not null || inlineKey is not null || type == "PEM")
            {
                if (inlineChain is not null || inlineKey is not null)
                {
                    if (inlineChain is null || inlineKey is null)
                        throw new ConfigException($"Listener {config.ListenerName}: ssl.keystore.certificate.chain and ssl.keystore.key must be set together");
                    return FromPem(inlineChain, inlineKey, keyPassword);
                }
                if (location is null)
                    throw new ConfigException($"Listener {config.ListenerName} uses TLS: set ssl.keystore.location (a PEM file with the certificate chain and key) " +
                                              "or ssl.keystore.certificate.chain and ssl.keystore.key");
                string pem = File.ReadAllText(location);
                return FromPem(pem, pem, keyPassword);
            }
            if (location is null)
                throw new ConfigException($"Listener {config.ListenerName} uses TLS: set ssl.keystore.location (and ssl.keystore.type=PEM for PEM files)");
            var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(location, config.Get("ssl.keystore.password"));
            var leaf = all.FirstOrDefault(c => c.HasPrivateKey)
                ?? throw new ConfigException($"Key store {location} holds no private key");
            var rest = new X509Certificate2Collection();
            foreach (var c in all) if (!ReferenceEquals(c, leaf)) rest.Add(c);
            return (leaf, rest);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The message names the file, never a password or key material.
            throw new ConfigException($"Listener {config.ListenerName}: cannot load the TLS key store{(location is null ? "" : $" {location}")}: {e.Message}", e);
        }
    }

    private static (X509Certificate2, X509Certificate2Collection) FromPem(string chainPem, string keyPem, string? keyPassword)
    {
        var certificate = keyPassword is null
            ? X509Certificate2.CreateFromPem(chainPem, keyPem)
            : X509Certificate2.CreateFromEncryptedPem(chainPem, keyPem, keyPassword);
        var all = new X509Certificate2Collection();
        all.ImportFromPem(chainPem);
        var rest = new X509Certificate2Collection();
        foreach (var c in all) if (c.Thumbprint != certificate.Thumbprint) rest.Add(c);
        return (certificate, rest);
    }

    private static X509Certificate2Collection? LoadTrustStore(ListenerConfigLookup config)
    {
        string type = config.Get("ssl.truststore.type") ?? "PKCS12";
        string? location = config.Get("ssl.truststore.location");
        string? inline = config.Get("ssl.truststore.certificates");
        try
        {
            var trust = new X509Certificate2Collection();
            if (inline is not null) trust.ImportFromPem(inline);
            else if (location is null) return null;
            else if (type == "PEM") trust.ImportFromPemFile(location);
            else trust.AddRange(X509CertificateLoader.LoadPkcs12CollectionFromFile(location, config.Get("ssl.truststore.password")));
            if (trust.Count == 0) throw new ConfigException($"Listener {config.ListenerName}: the trust store holds no certificate");
            return trust;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ConfigException($"Listener {config.ListenerName}: cannot load the TLS trust store{(location is null ? "" : $" {location}")}: {e.Message}", e);
        }
    }
}
