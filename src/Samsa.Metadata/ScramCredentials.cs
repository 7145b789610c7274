using System.Security.Cryptography;

namespace Samsa.Metadata;

/// <summary>SCRAM mechanisms with their AlterUserScramCredentials wire codes (Kafka's ScramMechanism type).</summary>
public enum ScramMechanism : sbyte
{
    Unknown = 0,
    ScramSha256 = 1,
    ScramSha512 = 2,
}

public static class ScramMechanisms
{
    /// <summary>Kafka's minimum iterations for both mechanisms (ScramMechanism.minIterations).</summary>
    public const int MinIterations = 4096;

    /// <summary>Kafka's ScramControlManager.MAX_ITERATIONS.</summary>
    public const int MaxIterations = 16384;

    public static string Name(this ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => "SCRAM-SHA-256",
        ScramMechanism.ScramSha512 => "SCRAM-SHA-512",
        _ => "UNKNOWN",
    };

    public static ScramMechanism FromName(string? name) => name switch
    {
        "SCRAM-SHA-256" => ScramMechanism.ScramSha256,
        "SCRAM-SHA-512" => ScramMechanism.ScramSha512,
        _ => ScramMechanism.Unknown,
    };

    public static ScramMechanism FromCode(sbyte code) =>
        code is (sbyte)ScramMechanism.ScramSha256 or (sbyte)ScramMechanism.ScramSha512 ? (ScramMechanism)code : ScramMechanism.Unknown;

    public static HashAlgorithmName Hash(this ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => HashAlgorithmName.SHA256,
        ScramMechanism.ScramSha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism)),
    };

    /// <summary>RFC 5802: ClientKey = HMAC(SaltedPassword, "Client Key"); StoredKey = H(ClientKey).</summary>
    public static byte[] StoredKey(this ScramMechanism mechanism, byte[] saltedPassword) =>
        Digest(mechanism, Hmac(mechanism, saltedPassword, "Client Key"u8));

    /// <summary>RFC 5802: ServerKey = HMAC(SaltedPassword, "Server Key").</summary>
    public static byte[] ServerKey(this ScramMechanism mechanism, byte[] saltedPassword) =>
        Hmac(mechanism, saltedPassword, "Server Key"u8);

    /// <summary>RFC 5802 Hi(): PBKDF2 with HMAC of the mechanism's hash, one block.</summary>
    public static byte[] SaltedPassword(this ScramMechanism mechanism, string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(password), salt, iterations, mechanism.Hash(),
            mechanism == ScramMechanism.ScramSha256 ? 32 : 64);

    public static byte[] Hmac(this ScramMechanism mechanism, byte[] key, ReadOnlySpan<byte> data) => mechanism switch
    {
        ScramMechanism.ScramSha256 => HMACSHA256.HashData(key, data),
        ScramMechanism.ScramSha512 => HMACSHA512.HashData(key, data),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism)),
    };

    public static byte[] Digest(this ScramMechanism mechanism, ReadOnlySpan<byte> data) => mechanism switch
    {
        ScramMechanism.ScramSha256 => SHA256.HashData(data),
        ScramMechanism.ScramSha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism)),
    };
}

/// <summary>
/// A user's SCRAM credential for one mechanism, as Kafka's UserScramCredentialRecord: the salt, iterations and the
/// two keys derived from the salted password (StoredKey verifies a client proof, ServerKey signs the server's final
/// message). Neither the password nor the salted password is stored.
/// </summary>
public sealed record UserScramCredentialRecord(
    string Name, ScramMechanism Mechanism, byte[] Salt, byte[] StoredKey, byte[] ServerKey, int Iterations) : MetadataRecord
{
    // Records may be logged (debug): never print key material.
    public override string ToString() => $"UserScramCredentialRecord {{ Name = {Name}, Mechanism = {Mechanism.Name()}, Iterations = {Iterations} }}";
}

public sealed record RemoveUserScramCredentialRecord(string Name, ScramMechanism Mechanism) : MetadataRecord;

public sealed record ScramCredentialImage(byte[] Salt, byte[] StoredKey, byte[] ServerKey, int Iterations)
{
    public static ScramCredentialImage Of(UserScramCredentialRecord r) => new(r.Salt, r.StoredKey, r.ServerKey, r.Iterations);

    public override string ToString() => $"ScramCredentialImage {{ Iterations = {Iterations} }}";
}

/// <summary>One upsertion of AlterUserScramCredentials: the client sends the salted password, never the password.</summary>
public sealed record ScramUpsertion(string Name, sbyte Mechanism, int Iterations, byte[] Salt, byte[] SaltedPassword)
{
    public override string ToString() => $"ScramUpsertion {{ Name = {Name}, Mechanism = {Mechanism}, Iterations = {Iterations} }}";
}

public sealed record ScramDeletion(string Name, sbyte Mechanism);

/// <summary>Per-user outcome of an AlterUserScramCredentials request.</summary>
public sealed record ScramAlterationResult(string User, ErrorCodeAndMessage Result);

public readonly record struct ErrorCodeAndMessage(Samsa.Protocol.ErrorCode Error, string? Message);
