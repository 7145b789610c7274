using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// The SASL state of one connection on a SASL listener (Kafka's SaslServerAuthenticator, KIP-152 framing):
/// SaslHandshake (v1) picks a mechanism, SaslAuthenticate carries its tokens until the mechanism completes. Until then
/// only ApiVersions, SaslHandshake and SaslAuthenticate are admitted (<see cref="Admits"/>); anything else closes the
/// connection before it reaches a handler. Bounds: requests before authentication are at most
/// <c>sasl.server.max.receive.size</c>, and authentication must finish within
/// <c>sasl.server.authentication.timeout.ms</c> of connecting.
/// KIP-368: with <c>connections.max.reauth.ms</c> &gt; 0 the session lasts that long (session_lifetime_ms); the client
/// re-authenticates with a new SaslHandshake on the same connection, with the same mechanism and principal. A request
/// other than these three after expiry closes the connection.
/// Thread-safety: the connection handler runs SASL requests one at a time (they are never pipelined).
/// </summary>
internal sealed class SaslSession
{
    private readonly ListenerAuthentication _settings;
    private readonly Func<string, ScramMechanism, ScramCredentialImage?> _scramCredentials;
    private readonly TimeProvider _time;
    private readonly long _connectedAt;
    private ISaslServer? _server;
    private long _expiresAt = long.MaxValue;

    public SaslSession(ListenerAuthentication settings, Func<string, ScramMechanism, ScramCredentialImage?> scramCredentials, TimeProvider time)
    {
        _settings = settings;
        _scramCredentials = scramCredentials;
        _time = time;
        _connectedAt = time.GetTimestamp();
    }

    public bool IsAuthenticated => AuthenticatedUser is not null;

    /// <summary>The user name once authenticated (kept across re-authentication, which must not change it).</summary>
    public string? AuthenticatedUser { get; private set; }

    public string? Mechanism { get; private set; }

    public IReadOnlyList<string> EnabledMechanisms => _settings.EnabledMechanisms;

    public long MaxReauthMs => _settings.MaxReauthMs;

    public int MaxTokenSize => _settings.MaxReceiveSize;

    /// <summary>Waits connection.failed.authentication.delay.ms before a failure is answered (Kafka's delayed close).</summary>
    public Task DelayFailureAsync(CancellationToken ct) =>
        _settings.FailedAuthenticationDelay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(_settings.FailedAuthenticationDelay, _time, ct);

    /// <summary>The gate in front of every handler.</summary>
    public bool Admits(ApiKey apiKey)
    {
        if (apiKey is ApiKey.ApiVersions or ApiKey.SaslHandshake or ApiKey.SaslAuthenticate) return IsAuthenticated || !AuthenticationTimedOut;
        return IsAuthenticated && !IsExpired;
    }

    public bool IsExpired => _time.GetTimestamp() >= _expiresAt;

    public bool AuthenticationTimedOut => !IsAuthenticated && _time.GetElapsedTime(_connectedAt) >= _settings.AuthenticationTimeout;

    /// <summary>Largest request accepted next: small until authenticated.</summary>
    public int MaxRequestSize(int socketRequestMaxBytes) => IsAuthenticated ? socketRequestMaxBytes : Math.Min(_settings.MaxReceiveSize, socketRequestMaxBytes);

    /// <summary>How long the next read may wait: until the authentication deadline while unauthenticated.</summary>
    public TimeSpan ReadTimeout(TimeSpan idleTimeout)
    {
        if (IsAuthenticated) return idleTimeout;
        var left = _settings.AuthenticationTimeout - _time.GetElapsedTime(_connectedAt);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < idleTimeout ? left : idleTimeout;
    }

    /// <summary>SaslHandshake: starts (or, KIP-368, restarts) an exchange with <paramref name="mechanism"/>.</summary>
    public HandshakeOutcome Handshake(string mechanism)
    {
        if (_server is not null && !_server.IsComplete)
            return HandshakeOutcome.IllegalState; // a second handshake in the middle of an exchange
        if (IsAuthenticated)
        {
            if (_settings.MaxReauthMs <= 0) return HandshakeOutcome.IllegalState;
            if (mechanism != Mechanism) return HandshakeOutcome.ReauthMechanismChanged;
        }
        if (!_settings.EnabledMechanisms.Contains(mechanism)) return HandshakeOutcome.UnsupportedMechanism;
        _server = mechanism switch
        {
            "PLAIN" => new PlainSaslServer(_settings.PlainUsers),
            _ => new ScramSaslServer(ScramMechanisms.FromName(mechanism), _scramCredentials),
        };
        return HandshakeOutcome.Ok;
    }

    /// <summary>
    /// SaslAuthenticate: feeds one token to the mechanism. Throws <see cref="SaslAuthenticationException"/> on failure
    /// (the caller answers SASL_AUTHENTICATION_FAILED and closes); <see cref="InvalidOperationException"/> when no
    /// exchange is in progress (ILLEGAL_SASL_STATE).
    /// </summary>
    public AuthenticateOutcome Authenticate(ReadOnlySpan<byte> token)
    {
        var server = _server;
        if (server is null || server.IsComplete) throw new InvalidOperationException("SaslAuthenticate without a SaslHandshake in progress");
        if (token.Length > _settings.MaxReceiveSize) throw new SaslAuthenticationException($"SASL token of {token.Length} bytes exceeds sasl.server.max.receive.size");
        var challenge = server.Evaluate(token);
        if (!server.IsComplete) return new AuthenticateOutcome(challenge, false, 0);
        string user = server.AuthenticatedUser!;
        if (AuthenticatedUser is not null && AuthenticatedUser != user)
            throw new SaslAuthenticationException($"Cannot change principals during re-authentication from User:{AuthenticatedUser} to User:{user}");
        AuthenticatedUser = user;
        Mechanism = server.Mechanism;
        long lifetime = _settings.MaxReauthMs;
        _expiresAt = lifetime > 0 ? _time.GetTimestamp() + lifetime * _time.TimestampFrequency / 1000 : long.MaxValue;
        return new AuthenticateOutcome(challenge, true, lifetime);
    }

    /// <summary>The mechanism of the exchange in progress (for the failure message).</summary>
    public string? PendingMechanism => _server?.Mechanism;
}

internal enum HandshakeOutcome
{
    Ok,
    UnsupportedMechanism,
    IllegalState,
    ReauthMechanismChanged,
}

/// <param name="SessionLifetimeMs">0 when sessions do not expire.</param>
internal readonly record struct AuthenticateOutcome(byte[] Challenge, bool Complete, long SessionLifetimeMs);
