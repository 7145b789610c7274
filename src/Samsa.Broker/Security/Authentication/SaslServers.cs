using System.Security.Cryptography;
using System.Text;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// The server side of one SASL mechanism for one authentication exchange. <see cref="Evaluate"/> takes the client's
/// next token and returns the server's answer; when <see cref="IsComplete"/> the client is authenticated as
/// <see cref="AuthenticatedUser"/>. Any failure throws <see cref="SaslAuthenticationException"/>, whose message is for
/// the broker's log only: the client gets a generic message, as from Kafka.
/// </summary>
internal interface ISaslServer
{
    string Mechanism { get; }
    bool IsComplete { get; }
    string? AuthenticatedUser { get; }
    byte[] Evaluate(ReadOnlySpan<byte> token);
}

internal sealed class SaslAuthenticationException(string reason) : Exception(reason);

/// <summary>
/// SASL/PLAIN (RFC 4616): one message <c>[authzid] NUL authcid NUL passwd</c>, checked against the listener's
/// <c>user_NAME="secret"</c> JAAS entries. Passwords are compared in constant time over their SHA-256 digests, so
/// neither content nor length leaks through timing; an unknown user costs the same comparison.
/// </summary>
internal sealed class PlainSaslServer(IReadOnlyDictionary<string, string> users) : ISaslServer
{
    private static readonly byte[] s_unknownUserDigest = SHA256.HashData(RandomNumberGenerator.GetBytes(32));

    public string Mechanism => "PLAIN";
    public bool IsComplete { get; private set; }
    public string? AuthenticatedUser { get; private set; }

    public byte[] Evaluate(ReadOnlySpan<byte> token)
    {
        if (IsComplete) throw new SaslAuthenticationException("PLAIN exchange already complete");
        string message;
        try
        {
            message = new UTF8Encoding(false, true).GetString(token);
        }
        catch (DecoderFallbackException)
        {
            throw new SaslAuthenticationException("Invalid SASL/PLAIN response: not UTF-8");
        }
        var parts = message.Split('\0');
        if (parts.Length != 3) throw new SaslAuthenticationException("Invalid SASL/PLAIN response: expected 3 tokens");
        var (authorizationId, user, password) = (parts[0], parts[1], parts[2]);
        if (user.Length == 0) throw new SaslAuthenticationException("Authentication failed: username not specified");
        if (password.Length == 0) throw new SaslAuthenticationException("Authentication failed: password not specified");
        if (authorizationId.Length > 0 && authorizationId != user)
            throw new SaslAuthenticationException("Authentication failed: Client requested an authorization id that is different from username");

        var expected = users.TryGetValue(user, out var secret) ? SHA256.HashData(Encoding.UTF8.GetBytes(secret)) : s_unknownUserDigest;
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        if (!CryptographicOperations.FixedTimeEquals(expected, given) || secret is null)
            throw new SaslAuthenticationException($"Authentication failed: Invalid username or password (user {user})");
        IsComplete = true;
        AuthenticatedUser = user;
        return [];
    }
}
