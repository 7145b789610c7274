using System.Security.Cryptography;
using System.Text;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// The client side of PLAIN and SCRAM-SHA-256/512, for Samsa's own connections to a SASL listener (inter-broker
/// clients, the CLI's wire requests). <see cref="Next"/> takes the server's last token (empty at the start) and returns
/// the next one to send in SaslAuthenticate; <see cref="IsComplete"/> once the server's final message is verified
/// (SCRAM checks the server signature, so a server without the credential cannot fake success).
/// </summary>
internal interface ISaslClient
{
    bool IsComplete { get; }
    byte[] Next(ReadOnlySpan<byte> serverToken);
}

internal static class SaslClients
{
    public static ISaslClient Create(string mechanism, string user, string password) => mechanism switch
    {
        "PLAIN" => new PlainSaslClient(user, password),
        "SCRAM-SHA-256" or "SCRAM-SHA-512" => new ScramSaslClient(ScramMechanisms.FromName(mechanism), user, password),
        _ => throw new ArgumentException($"SASL mechanism {mechanism} is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", nameof(mechanism)),
    };
}

internal sealed class PlainSaslClient(string user, string password) : ISaslClient
{
    private bool _sent;

    public bool IsComplete => _sent;

    public byte[] Next(ReadOnlySpan<byte> serverToken)
    {
        if (_sent) throw new SaslAuthenticationException("PLAIN has a single message");
        _sent = true;
        return Encoding.UTF8.GetBytes($"\0{user}\0{password}");
    }
}

internal sealed class ScramSaslClient(ScramMechanism mechanism, string user, string password, string? clientNonce = null) : ISaslClient
{
    private readonly string _nonce = clientNonce ?? new string(RandomNumberGenerator.GetItems<char>("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32));
    private int _step;
    private string _clientFirstBare = "";
    private byte[] _expectedServerSignature = [];

    public bool IsComplete => _step == 3;

    public byte[] Next(ReadOnlySpan<byte> serverToken)
    {
        switch (_step)
        {
            case 0:
                _clientFirstBare = $"n={user.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal)},r={_nonce}";
                _step = 1;
                return Encoding.UTF8.GetBytes("n,," + _clientFirstBare);
            case 1:
            {
                string serverFirst = Encoding.UTF8.GetString(serverToken);
                var attributes = serverFirst.Split(',').Where(a => a.Length > 2 && a[1] == '=').ToDictionary(a => a[0], a => a[2..]);
                if (!attributes.TryGetValue('r', out var nonce) || !nonce.StartsWith(_nonce, StringComparison.Ordinal)
                    || !attributes.TryGetValue('s', out var salt) || !attributes.TryGetValue('i', out var iterationsText)
                    || !int.TryParse(iterationsText, out int iterations) || iterations < 1)
                    throw new SaslAuthenticationException("Invalid SCRAM server-first message");
                byte[] salted = mechanism.SaltedPassword(password, Convert.FromBase64String(salt), iterations);
                string withoutProof = $"c=biws,r={nonce}";
                byte[] authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{serverFirst},{withoutProof}");
                byte[] clientKey = mechanism.Hmac(salted, "Client Key"u8);
                byte[] signature = mechanism.Hmac(mechanism.Digest(clientKey), authMessage);
                for (int i = 0; i < clientKey.Length; i++) clientKey[i] ^= signature[i];
                _expectedServerSignature = mechanism.Hmac(mechanism.ServerKey(salted), authMessage);
                _step = 2;
                return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(clientKey)}");
            }
            case 2:
            {
                string serverFinal = Encoding.UTF8.GetString(serverToken);
                if (!serverFinal.StartsWith("v=", StringComparison.Ordinal)
                    || !CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(serverFinal[2..]), _expectedServerSignature))
                    throw new SaslAuthenticationException("SCRAM server signature does not verify");
                _step = 3;
                return [];
            }
            default:
                throw new SaslAuthenticationException("SCRAM exchange already complete");
        }
    }
}
