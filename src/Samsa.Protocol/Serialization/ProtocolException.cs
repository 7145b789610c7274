namespace Samsa.Protocol.Serialization;

/// <summary>
/// The single exception type thrown by the wire codec: malformed or truncated input on read,
/// and values a version cannot carry on write (null in a non-nullable field, a non-ignorable field
/// set at a version lacking it, an unsupported version).
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(string message, ErrorCode errorCode = ErrorCode.CorruptMessage) : base(message) =>
        ErrorCode = errorCode;

    public ProtocolException(string message, Exception inner, ErrorCode errorCode = ErrorCode.CorruptMessage)
        : base(message, inner) => ErrorCode = errorCode;

    /// <summary>The Kafka error code a broker should answer with (when it can answer at all).</summary>
    public ErrorCode ErrorCode { get; }
}
