using System.Security.Cryptography;
using System.Text;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// SASL/SCRAM-SHA-256 and -512 (RFC 5802/7677, Kafka's ScramSaslServer) without channel binding. Two rounds:
/// client-first (<c>n,[a=authzid],n=user,r=nonce</c>) → server-first (<c>r=nonce+server,s=salt,i=iterations</c>);
/// client-final (<c>c=biws,r=nonce,p=proof</c>) → server-final (<c>v=signature</c>). The proof is verified against the
/// StoredKey kept in cluster metadata: H(proof XOR HMAC(StoredKey, AuthMessage)) must equal StoredKey (constant-time).
/// Extensions are refused (Samsa has no delegation tokens: <c>tokenauth</c> cannot succeed).
/// </summary>
/// <param name="serverNonce">Tests only: a fixed server nonce (RFC test vectors); random otherwise.</param>
internal sealed class ScramSaslServer(
    ScramMechanism mechanism, Func<string, ScramMechanism, ScramCredentialImage?> credentials, Func<string>? serverNonce = null) : ISaslServer
{
    private enum State
    {
        ReceiveClientFirst,
        ReceiveClientFinal,
        Complete,
        Failed,
    }

    private const string NonceAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private State _state = State.ReceiveClientFirst;
    private string _gs2Header = "";
    private string _clientFirstBare = "";
    private string _serverFirst = "";
    private string _nonce = "";
    private string _clientNonce = "";
    private string _user = "";
    private ScramCredentialImage? _credential;

    public string Mechanism => mechanism.Name();
    public bool IsComplete => _state == State.Complete;
    public string? AuthenticatedUser => IsComplete ? _user : null;

    public byte[] Evaluate(ReadOnlySpan<byte> token)
    {
        try
        {
            string message = new UTF8Encoding(false, true).GetString(token);
            switch (_state)
            {
                case State.ReceiveClientFirst:
                    return Encoding.UTF8.GetBytes(ClientFirst(message));
                case State.ReceiveClientFinal:
                    return Encoding.UTF8.GetBytes(ClientFinal(message));
                default:
                    throw new SaslAuthenticationException($"Unexpected SCRAM message in state {_state}");
            }
        }
        catch (Exception e) when (e is DecoderFallbackException or FormatException)
        {
            _state = State.Failed;
            throw new SaslAuthenticationException($"Invalid SCRAM message: {e.Message}");
        }
        catch (SaslAuthenticationException)
        {
            _state = State.Failed;
            throw;
        }
    }

    private string ClientFirst(string message)
    {
        // gs2-header: ("n" | "y") "," [ "a=" saslname ] ","   — "p=" (channel binding) is not supported.
        if (!(message.StartsWith("n,", StringComparison.Ordinal) || message.StartsWith("y,", StringComparison.Ordinal)))
            throw new SaslAuthenticationException("SCRAM channel binding is not supported");
        int second = message.IndexOf(',', 2);
        if (second < 0) throw new SaslAuthenticationException("Invalid SCRAM client-first message");
        string authzid = message[2..second];
        if (authzid.Length > 0 && !authzid.StartsWith("a=", StringComparison.Ordinal))
            throw new SaslAuthenticationException("Invalid SCRAM authorization id");
        _gs2Header = message[..(second + 1)];
        _clientFirstBare = message[(second + 1)..];

        var attributes = _clientFirstBare.Split(',');
        if (attributes.Length < 2 || !attributes[0].StartsWith("n=", StringComparison.Ordinal) || !attributes[1].StartsWith("r=", StringComparison.Ordinal))
            throw new SaslAuthenticationException("Invalid SCRAM client-first message");
        if (attributes.Length > 2)
            throw new SaslAuthenticationException("SCRAM extensions (e.g. delegation tokens) are not supported");
        _user = DecodeSaslName(attributes[0][2..]);
        string clientNonce = _clientNonce = attributes[1][2..];
        if (_user.Length == 0 || clientNonce.Length == 0) throw new SaslAuthenticationException("Invalid SCRAM client-first message");
        if (authzid.Length > 0 && DecodeSaslName(authzid[2..]) != _user)
            throw new SaslAuthenticationException("Authentication failed: Client requested an authorization id that is different from username");

        _credential = credentials(_user, mechanism)
            ?? throw new SaslAuthenticationException($"Authentication failed: Invalid user credentials (user {_user})");
        // Letters and digits only, as Kafka's ScramFormatter.secureRandomString: older librdkafka (1.x, Debian's kcat)
        // mangles a nonce holding '+' or '/'.
        _nonce = clientNonce + (serverNonce?.Invoke() ?? new string(RandomNumberGenerator.GetItems<char>(NonceAlphabet, 32)));
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}";
        _state = State.ReceiveClientFinal;
        return _serverFirst;
    }

    private string ClientFinal(string message)
    {
        int proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0) throw new SaslAuthenticationException("Invalid SCRAM client-final message");
        string withoutProof = message[..proofAt];
        var attributes = withoutProof.Split(',');
        if (attributes.Length != 2 || !attributes[0].StartsWith("c=", StringComparison.Ordinal) || !attributes[1].StartsWith("r=", StringComparison.Ordinal))
            throw new SaslAuthenticationException("Invalid SCRAM client-final message");
        if (Convert.FromBase64String(attributes[0][2..]) is var binding && Encoding.UTF8.GetString(binding) != _gs2Header)
            throw new SaslAuthenticationException("Invalid SCRAM channel binding");
        // librdkafka 2.0.x (Debian 12's kcat) echoes the client nonce once more in front of the combined nonce. Accepted:
        // the fresh server part is still required and the proof signs the message exactly as sent (Kafka refuses it).
        string echoed = attributes[1][2..];
        if (echoed != _nonce && echoed != _clientNonce + _nonce) throw new SaslAuthenticationException("Invalid SCRAM nonce");
        byte[] proof = Convert.FromBase64String(message[(proofAt + 3)..]);

        var credential = _credential!;
        byte[] authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        byte[] clientSignature = mechanism.Hmac(credential.StoredKey, authMessage);
        if (proof.Length != clientSignature.Length) throw new SaslAuthenticationException($"Authentication failed: Invalid client proof (user {_user})");
        byte[] clientKey = new byte[proof.Length];
        for (int i = 0; i < clientKey.Length; i++) clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(mechanism.Digest(clientKey), credential.StoredKey))
            throw new SaslAuthenticationException($"Authentication failed: Invalid client proof (user {_user})");

        _state = State.Complete;
        return "v=" + Convert.ToBase64String(mechanism.Hmac(credential.ServerKey, authMessage));
    }

    /// <summary>RFC 5802 saslname: ',' is written =2C and '=' is written =3D; any other '=' is invalid.</summary>
    private static string DecodeSaslName(string name)
    {
        var sb = new StringBuilder(name.Length);
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] != '=')
            {
                sb.Append(name[i]);
                continue;
            }
            if (string.CompareOrdinal(name, i, "=2C", 0, 3) == 0) sb.Append(',');
            else if (string.CompareOrdinal(name, i, "=3D", 0, 3) == 0) sb.Append('=');
            else throw new SaslAuthenticationException("Invalid SCRAM user name encoding");
            i += 2;
        }
        return sb.ToString();
    }
}
