using System.Buffers;

namespace Samsa.Broker.Network.InterBroker;

/// <summary>
/// A decoded response whose byte fields (Fetch records) are slices of a pooled frame buffer: valid until
/// <see cref="Dispose"/>, which returns the buffer. Dispose exactly once, after the last use of the body.
/// </summary>
internal sealed class InterBrokerResponse<T>(T body, short version, byte[]? pooledFrame) : IDisposable
    where T : class
{
    private byte[]? _pooledFrame = pooledFrame;

    public T Body { get; } = body;

    /// <summary>The version the request was sent (and the response decoded) with.</summary>
    public short Version { get; } = version;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _pooledFrame, null) is { } frame) ArrayPool<byte>.Shared.Return(frame);
    }
}

/// <summary>The peer could not be reached or the connection to it was lost; the request may or may not have been processed.</summary>
internal sealed class BrokerUnavailableException(string message, Exception? inner = null) : IOException(message, inner);
