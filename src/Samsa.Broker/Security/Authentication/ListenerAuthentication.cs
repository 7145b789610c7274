using System.Globalization;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// The authentication settings of one listener, read with Kafka's names so server.properties carry over: a
/// <c>listener.name.&lt;listener&gt;.</c> prefixed key (listener name in lower case, as Kafka writes it) wins over the
/// global key. SASL: <c>sasl.enabled.mechanisms</c>, PLAIN users from
/// <c>listener.name.&lt;l&gt;.plain.sasl.jaas.config</c> (<c>user_NAME="secret"</c> options), SCRAM users from the
/// cluster metadata. TLS: <c>ssl.*</c> (see <see cref="TlsSettings"/>).
/// </summary>
internal sealed class ListenerAuthentication
{
    public static readonly string[] SupportedMechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

    private ListenerAuthentication(string listenerName, SecurityProtocol protocol)
    {
        ListenerName = listenerName;
        Protocol = protocol;
    }

    public string ListenerName { get; }
    public SecurityProtocol Protocol { get; }
    public bool IsSasl => Protocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl;
    public bool IsTls => Protocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl;

    /// <summary>Mechanisms offered on a SASL listener, in configured order.</summary>
    public IReadOnlyList<string> EnabledMechanisms { get; private init; } = [];

    /// <summary>PLAIN users (name → password) from the listener's PLAIN JAAS config; empty when none.</summary>
    public IReadOnlyDictionary<string, string> PlainUsers { get; private init; } = new Dictionary<string, string>();

    /// <summary>connections.max.reauth.ms; 0 = sessions never expire (no KIP-368 re-authentication).</summary>
    public long MaxReauthMs { get; private init; }

    /// <summary>sasl.server.max.receive.size: largest request before authentication completes.</summary>
    public int MaxReceiveSize { get; private init; } = 16384;

    /// <summary>sasl.server.authentication.timeout.ms: time allowed from connect to authenticated.</summary>
    public TimeSpan AuthenticationTimeout { get; private init; } = TimeSpan.FromSeconds(10);

    public TlsSettings? Tls { get; private init; }

    /// <summary>connection.failed.authentication.delay.ms: a failed login is answered (and closed) this much later.</summary>
    public TimeSpan FailedAuthenticationDelay { get; private init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The JAAS entry of a mechanism on this listener (its username/password are the broker's own client credentials).</summary>
    public IReadOnlyDictionary<string, JaasConfig> Jaas { get; private init; } = new Dictionary<string, JaasConfig>();

    public static ListenerAuthentication From(BrokerConfig config, ListenerEndpoint listener, ILogger? logger = null)
    {
        var lookup = new ListenerConfigLookup(config, listener.Name);
        var auth = new ListenerAuthentication(listener.Name, listener.SecurityProtocol);
        if (auth.IsTls) auth = auth.With(tls: TlsSettings.From(lookup));
        if (!auth.IsSasl) return auth;

        var mechanisms = ConfigDefinition.SplitList(lookup.Get("sasl.enabled.mechanisms")).Select(m => m.ToUpperInvariant()).Distinct().ToList();
        foreach (var m in mechanisms)
            if (!SupportedMechanisms.Contains(m))
                throw ConfigException.InvalidValue(lookup.KeyOf("sasl.enabled.mechanisms"), string.Join(",", mechanisms),
                    $"mechanism {m} is not supported; Samsa offers {string.Join(", ", SupportedMechanisms)}");
        if (mechanisms.Count == 0)
            throw ConfigException.InvalidValue(lookup.KeyOf("sasl.enabled.mechanisms"), "", $"listener {listener.Name} uses {listener.SecurityProtocol.ToKafkaName()} and needs at least one mechanism");

        var jaas = new Dictionary<string, JaasConfig>(StringComparer.Ordinal);
        foreach (var m in mechanisms)
        {
            var key = $"listener.name.{listener.Name.ToLowerInvariant()}.{m.ToLowerInvariant()}.sasl.jaas.config";
            var text = lookup.GetPrefixedOnly($"{m.ToLowerInvariant()}.sasl.jaas.config");
            if (text is not null) jaas[m] = JaasConfig.Parse(key, text);
        }
        var plainUsers = jaas.TryGetValue("PLAIN", out var plain) ? plain.PlainUsers() : new Dictionary<string, string>();
        if (mechanisms.Contains("PLAIN") && plainUsers.Count == 0)
            logger?.LogWarning("Listener {Listener}: PLAIN is enabled but listener.name.{Lower}.plain.sasl.jaas.config defines no user_NAME entries; no PLAIN login can succeed",
                listener.Name, listener.Name.ToLowerInvariant());

        return new ListenerAuthentication(listener.Name, listener.SecurityProtocol)
        {
            Tls = auth.Tls,
            EnabledMechanisms = mechanisms,
            PlainUsers = plainUsers,
            Jaas = jaas,
            MaxReauthMs = long.Parse(lookup.Get("connections.max.reauth.ms") ?? "0", CultureInfo.InvariantCulture),
            MaxReceiveSize = int.Parse(lookup.Get("sasl.server.max.receive.size") ?? "16384", CultureInfo.InvariantCulture),
            AuthenticationTimeout = TimeSpan.FromMilliseconds(long.Parse(lookup.Get("sasl.server.authentication.timeout.ms") ?? "10000", CultureInfo.InvariantCulture)),
            FailedAuthenticationDelay = TimeSpan.FromMilliseconds(int.Parse(lookup.Get("connection.failed.authentication.delay.ms") ?? "100", CultureInfo.InvariantCulture)),
        };
    }

    private ListenerAuthentication With(TlsSettings tls) => new(ListenerName, Protocol) { Tls = tls };
}

/// <summary>Reads a key for one listener: <c>listener.name.&lt;listener&gt;.&lt;key&gt;</c> first, then the global key.</summary>
internal sealed class ListenerConfigLookup(BrokerConfig config, string listenerName)
{
    private readonly string _prefix = $"listener.name.{listenerName.ToLowerInvariant()}.";

    public string ListenerName => listenerName;

    /// <summary>The key name actually in effect (for error messages).</summary>
    public string KeyOf(string key) => GetPrefixedOnly(key) is not null ? _prefix + key : key;

    public string? GetPrefixedOnly(string key)
    {
        foreach (var (name, value) in config.Values)
            if (name.Length == _prefix.Length + key.Length && name.StartsWith(_prefix, StringComparison.OrdinalIgnoreCase)
                && name.EndsWith(key, StringComparison.Ordinal))
                return value;
        return null;
    }

    public string? Get(string key)
    {
        var prefixed = GetPrefixedOnly(key);
        if (prefixed is not null)
        {
            // Validate a prefixed value as the global key would be (types, valid values).
            if (BrokerConfigDefinitions.TryGet(key, out var definition)) definition.Parse(prefixed);
            return prefixed.Trim();
        }
        return BrokerConfigDefinitions.TryGet(key, out _) ? config.GetString(key) : config.Values.GetValueOrDefault(key);
    }
}
