namespace Samsa.Protocol.Compression;

/// <summary>Compressed data is malformed or uses an unsupported variant. Maps to CORRUPT_MESSAGE.</summary>
public class CompressionException : Exception
{
    public CompressionException(string message) : base(message) { }
    public CompressionException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Decompressed output would exceed the caller's limit (decompression bomb guard).</summary>
public sealed class DecompressionLimitExceededException : CompressionException
{
    public DecompressionLimitExceededException(int limit)
        : base($"Decompressed data exceeds the limit of {limit} bytes.") => Limit = limit;

    public int Limit { get; }
}
