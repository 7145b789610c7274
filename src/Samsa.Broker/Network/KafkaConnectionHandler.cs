using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Api;

namespace Samsa.Broker.Network;

/// <summary>
/// One Kafka client connection on Kestrel. Frames are a 4-byte big-endian size then the request. Requests on a
/// connection take effect and are answered in request order, the per-connection ordering clients rely on. Unlike
/// Kafka, which mutes a channel while a request is in flight, consecutive Produce requests are pipelined (up to 8):
/// each is appended as soon as it is read and answered after the fsync covering it, so small requests share fsyncs
/// instead of queueing behind one another. Any other request waits until every earlier one has been answered.
/// A size outside [10, socket.request.max.bytes] closes the connection before anything is allocated.
/// </summary>
public sealed class KafkaConnectionHandler(
    RequestDispatcher dispatcher, BrokerLimits limits, BrokerMetrics metrics, ILogger<KafkaConnectionHandler> logger, Task ready)
    : ConnectionHandler
{
    /// <summary>Smallest valid request: api key, api version, correlation id and a null client id.</summary>
    private const int MinFrameSize = 10;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var session = limits.Security is { } security
            ? security.CreateSession(connection)
            : new ClientSession(connection.ConnectionId, connection.RemoteEndPoint, limits.ListenerName, "PLAINTEXT");
        if (session is null)
        {
            connection.Abort();
            return;
        }
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var ct = connection.ConnectionClosed;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var inFlight = new Queue<Task<DispatchOutcome>>();
        Task<DispatchOutcome> previous = Task.FromResult(DispatchOutcome.Continue);
        metrics.ConnectionOpened();
        logger.LogDebug("Connection {Connection} from {Remote}", connection.ConnectionId, connection.RemoteEndPoint);
        try
        {
            // Kestrel accepts as soon as it binds; requests wait until the node knows its advertised endpoints.
            await ready.WaitAsync(ct).ConfigureAwait(false);
            while (true)
            {
                // KIP-219: a client over its quota got throttle_time_ms in its response; read nothing from it until then.
                if (session.MutedFor is { Ticks: > 0 } muted) await Task.Delay(muted, ct).ConfigureAwait(false);
                ReadResult result;
                idle.CancelAfter(session.Sasl?.ReadTimeout(limits.IdleTimeout) ?? limits.IdleTimeout);
                try
                {
                    result = await input.ReadAsync(idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    if (session.Sasl is { IsAuthenticated: false })
                    {
                        logger.LogInformation("Closing connection {Connection} from {Remote}: not authenticated within sasl.server.authentication.timeout.ms",
                            connection.ConnectionId, connection.RemoteEndPoint);
                        break;
                    }
                    logger.LogInformation("Closing connection {Connection} from {Remote}: idle for {Idle} (connections.max.idle.ms)",
                        connection.ConnectionId, connection.RemoteEndPoint, limits.IdleTimeout);
                    break;
                }
                if (!idle.TryReset()) break;
                var buffer = result.Buffer;
                // On a SASL listener requests stay small until the client has authenticated (sasl.server.max.receive.size).
                int maxSize = session.Sasl?.MaxRequestSize(limits.SocketRequestMaxBytes) ?? limits.SocketRequestMaxBytes;
                if (!TryReadFrameSize(buffer, out int size) || (size >= MinFrameSize && size <= maxSize && buffer.Length < 4 + (long)size))
                {
                    if (result.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                            logger.LogInformation("Connection {Connection} from {Remote} closed mid-frame ({Bytes} bytes unread)",
                                connection.ConnectionId, connection.RemoteEndPoint, buffer.Length);
                        break;
                    }
                    input.AdvanceTo(buffer.Start, buffer.End); // need more bytes
                    continue;
                }
                if (size < MinFrameSize || size > maxSize)
                {
                    logger.LogWarning("Closing connection {Connection} from {Remote}: request size {Size} outside [{Min}, {Max}] ({Limit})",
                        connection.ConnectionId, connection.RemoteEndPoint, size, MinFrameSize, maxSize,
                        maxSize < limits.SocketRequestMaxBytes ? "sasl.server.max.receive.size before authentication" : "socket.request.max.bytes");
                    break;
                }

                // The frame is copied out of the pipe so the request (whose records are slices of it) can be
                // handled while the pipe keeps receiving; it is returned to the pool once the response is written.
                byte[] frame = ArrayPool<byte>.Shared.Rent(size);
                buffer.Slice(4, size).CopyTo(frame);
                bool produce = BinaryPrimitives.ReadInt16BigEndian(frame) == (short)Samsa.Protocol.ApiKey.Produce;
                input.AdvanceTo(buffer.GetPosition(4 + size));
                metrics.BytesReceived(size + 4);

                // Produce requests are pipelined: the next one is read and appended while the previous waits for its
                // group-commit fsync (appends still happen in request order, responses are written in order). Any
                // other request first waits for everything in flight, so it sees the effects of earlier requests,
                // exactly as with one-at-a-time processing.
                if (!produce || inFlight.Count >= MaxPipelinedProduces)
                {
                    if (await DrainAsync(inFlight).ConfigureAwait(false) == DispatchOutcome.Close) break;
                }
                var processing = ProcessAsync(session, frame, size, output, previous, ct);
                previous = processing;
                if (produce)
                {
                    inFlight.Enqueue(processing);
                    bool close = false;
                    while (inFlight.Count > 0 && inFlight.Peek().IsCompleted)
                        if (await inFlight.Dequeue().ConfigureAwait(false) == DispatchOutcome.Close) close = true;
                    if (close) break;
                }
                else if (await processing.ConfigureAwait(false) == DispatchOutcome.Close)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ConnectionResetException)
        {
        }
        catch (IOException e)
        {
            // Resets are routine (a client exiting); any other socket failure is worth a line for the operator.
            logger.LogInformation("Connection {Connection} from {Remote} failed: {Reason}", connection.ConnectionId, connection.RemoteEndPoint, e.Message);
        }
        finally
        {
            try
            {
                await DrainAsync(inFlight).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The connection is going away; pipelined requests may fail writing to it.
                logger.LogDebug(e, "Connection {Connection}: in-flight request ended with an error while closing", connection.ConnectionId);
            }
            metrics.ConnectionClosed();
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
            logger.LogDebug("Connection {Connection} closed", connection.ConnectionId);
        }
    }

    /// <summary>Most Produce requests of one connection in flight at once (bounds the frames held in memory).</summary>
    private const int MaxPipelinedProduces = 8;

    /// <summary>Dispatches one request, writes its response after the previous one's and flushes; returns the frame.</summary>
    private async Task<DispatchOutcome> ProcessAsync(
        ClientSession session, byte[] frame, int size, PipeWriter output, Task<DispatchOutcome> previous, CancellationToken ct)
    {
        try
        {
            var outcome = await dispatcher.DispatchAsync(session, frame.AsMemory(0, size), output, ct, previous).ConfigureAwait(false);
            // Also when the request ended before writing (closing or no response): keep completion in request order.
            if (await previous.ConfigureAwait(false) == DispatchOutcome.Close) return DispatchOutcome.Close;
            // A closing request may still have written its response (a failed SASL authentication): it goes out first.
            var flush = await output.FlushAsync(ct).ConfigureAwait(false);
            return outcome == DispatchOutcome.Close || flush.IsCompleted || flush.IsCanceled ? DispatchOutcome.Close : DispatchOutcome.Continue;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static async Task<DispatchOutcome> DrainAsync(Queue<Task<DispatchOutcome>> inFlight)
    {
        var outcome = DispatchOutcome.Continue;
        while (inFlight.Count > 0)
            if (await inFlight.Dequeue().ConfigureAwait(false) == DispatchOutcome.Close) outcome = DispatchOutcome.Close;
        return outcome;
    }

    private static bool TryReadFrameSize(ReadOnlySequence<byte> buffer, out int size)
    {
        size = 0;
        if (buffer.Length < 4) return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        return true;
    }
}

/// <summary>Edge limits enforced on every connection.</summary>
/// <param name="IdleTimeout">connections.max.idle.ms: a connection with no request for this long is closed.</param>
public sealed record BrokerLimits(int SocketRequestMaxBytes, string ListenerName, TimeSpan IdleTimeout)
{
    /// <summary>The listener's security (protocol, TLS principal, SASL gate); null means PLAINTEXT.</summary>
    internal Security.Authentication.ListenerSecurity? Security { get; init; }
}
