using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// A deliberately small Kafka client for edge tests: one loopback socket, frames written with
/// <see cref="KafkaFrames.WriteRequest"/>, responses read back in order and matched against what was sent.
/// It also sends arbitrary bytes, which a real client never would. Not thread-safe.
/// </summary>
public sealed class RawKafkaClient : IAsyncDisposable, IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly Queue<(ApiKey ApiKey, short Version, int CorrelationId)> _pending = new();
    private int _nextCorrelationId = 1;

    private RawKafkaClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public Socket Socket => _tcp.Client;

    public static async Task<RawKafkaClient> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(endpoint, cancellationToken);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
        return new RawKafkaClient(tcp);
    }

    public static Task<RawKafkaClient> ConnectAsync(TestBroker broker) => ConnectAsync(broker.Host.BoundEndpoints[0]);

    /// <summary>A complete request frame (size prefix, header, body).</summary>
    public static byte[] Frame(ApiKey apiKey, short version, object body, int correlationId, string? clientId = "raw-test")
    {
        var buffer = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(buffer, new RequestHeader(apiKey, version, correlationId, clientId), body);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A frame with a v1 request header (null client id) and arbitrary body bytes, for api keys the codec does not know.</summary>
    public static byte[] RawFrame(short apiKey, short version, int correlationId, ReadOnlySpan<byte> body)
    {
        var frame = new byte[4 + 10 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), apiKey);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), version);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), correlationId);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(12), -1);
        body.CopyTo(frame.AsSpan(14));
        return frame;
    }

    /// <summary>Sends a request; its response is expected by the next <see cref="ReceiveAsync{T}"/>. Returns the correlation id.</summary>
    public async Task<int> SendAsync(ApiKey apiKey, short version, object body, CancellationToken cancellationToken = default)
    {
        int correlationId = _nextCorrelationId++;
        await SendRawAsync(Frame(apiKey, version, body, correlationId), cancellationToken);
        _pending.Enqueue((apiKey, version, correlationId));
        return correlationId;
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>Registers a response expectation for a frame sent with <see cref="SendRawAsync"/>.</summary>
    public void Expect(ApiKey apiKey, short version, int correlationId) => _pending.Enqueue((apiKey, version, correlationId));

    /// <summary>Reads the response to the oldest unanswered <see cref="SendAsync"/> and checks its correlation id.</summary>
    public async Task<T> ReceiveAsync<T>(TimeSpan? timeout = null) where T : class, new()
    {
        if (!_pending.TryDequeue(out var request)) throw new InvalidOperationException("No request is awaiting a response.");
        // ApiVersions answers an unsupported version with a v0 body (KIP-511); the caller passes the version it reads with
        // through Expect in that case.
        byte[] frame = await ReceiveFrameAsync(timeout);
        var (correlationId, body) = KafkaFrames.ReadResponse<T>(frame, request.ApiKey, request.Version);
        if (correlationId != request.CorrelationId)
            throw new InvalidDataException($"Response correlation id {correlationId}, expected {request.CorrelationId}.");
        return body;
    }

    public async Task<T> RequestAsync<T>(ApiKey apiKey, short version, object body, TimeSpan? timeout = null) where T : class, new()
    {
        await SendAsync(apiKey, version, body);
        return await ReceiveAsync<T>(timeout);
    }

    /// <summary>Reads one response frame (without its size prefix). EOF → <see cref="EndOfStreamException"/>.</summary>
    public async Task<byte[]> ReceiveFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var prefix = new byte[4];
        await _stream.ReadExactlyAsync(prefix, cts.Token);
        int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size < 0 || size > 64 << 20) throw new InvalidDataException($"Response size {size}.");
        var frame = new byte[size];
        await _stream.ReadExactlyAsync(frame, cts.Token);
        return frame;
    }

    /// <summary>
    /// True when the broker closes the connection (EOF or reset) within <paramref name="timeout"/>; anything it sends
    /// before closing is discarded. False when the connection is still open at the deadline.
    /// </summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                int read = await _stream.ReadAsync(buffer, cts.Token);
                if (read == 0) return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
