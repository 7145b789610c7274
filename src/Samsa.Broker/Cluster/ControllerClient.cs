using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Cluster;

/// <summary>
/// Sends controller calls to another node's broker listener as Envelope requests and reads the answers. One
/// connection per target node, one call at a time on it (controller traffic is a few calls a second); a failed
/// connection is dropped and reopened on the next call. Thread-safe.
/// TODO(merge): move onto the inter-broker client in Network/InterBroker once it is on main.
/// </summary>
public sealed class ControllerClient(string clientId, int maxResponseBytes, ILogger<ControllerClient> logger) : IAsyncDisposable
{
    /// <summary>Opens connections to a TLS/SASL inter-broker listener; null for PLAINTEXT (plain TCP).</summary>
    internal Network.InterBroker.IBrokerConnectionFactory? Connections { get; init; }

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, Connection> _connections = [];
    private readonly object _gate = new();
    private int _correlation;

    public async Task<ControllerRpcResponse> CallAsync(string host, int port, ControllerRpcRequest request, CancellationToken ct)
    {
        Connection connection;
        lock (_gate)
        {
            string key = $"{host}:{port}";
            if (!_connections.TryGetValue(key, out connection!)) _connections[key] = connection = new Connection(host, port, Connections);
        }
        await connection.Lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(CallTimeout);
            try
            {
                return await SendAsync(connection, request, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ProtocolException or EndOfStreamException)
            {
                connection.Reset();
                if (ct.IsCancellationRequested) throw;
                logger.LogDebug(e, "Controller call to {Host}:{Port} failed", host, port);
                throw new IOException($"Controller call to {host}:{port} failed: {e.Message}", e);
            }
        }
        finally
        {
            connection.Lock.Release();
        }
    }

    private async Task<ControllerRpcResponse> SendAsync(Connection connection, ControllerRpcRequest request, CancellationToken ct)
    {
        var stream = await connection.OpenAsync(ct).ConfigureAwait(false);
        int correlationId = Interlocked.Increment(ref _correlation);
        var envelope = new EnvelopeRequest { RequestData = ControllerRpcJson.Serialize(request), ClientHostAddress = [] };
        var output = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(output, new RequestHeader(ApiKey.Envelope, 0, correlationId, clientId), envelope);
        await stream.WriteAsync(output.WrittenMemory, ct).ConfigureAwait(false);

        var sizeBuffer = new byte[4];
        await stream.ReadExactlyAsync(sizeBuffer, ct).ConfigureAwait(false);
        int size = BinaryPrimitives.ReadInt32BigEndian(sizeBuffer);
        if (size <= 0 || size > maxResponseBytes) throw new ProtocolException($"Controller response of {size} bytes is out of range.");
        var frame = new byte[size];
        await stream.ReadExactlyAsync(frame, ct).ConfigureAwait(false);
        var (answeredId, response) = KafkaFrames.ReadResponse<EnvelopeResponse>(frame, ApiKey.Envelope, 0);
        if (answeredId != correlationId) throw new ProtocolException($"Correlation id {answeredId} does not match {correlationId}.");
        if (response.ErrorCode != 0 || response.ResponseData is null)
            throw new IOException($"Controller call refused: error {(ErrorCode)response.ErrorCode}.");
        return ControllerRpcJson.Deserialize<ControllerRpcResponse>(response.ResponseData);
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var connection in _connections.Values) connection.Reset();
            _connections.Clear();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A plain TCP connection, or with <paramref name="factory"/> (a TLS/SASL inter-broker listener) the factory's
    /// authenticated stream.
    /// </summary>
    private sealed class Connection(string host, int port, Network.InterBroker.IBrokerConnectionFactory? factory)
    {
        private TcpClient? _client;
        private Stream? _secured;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public async Task<Stream> OpenAsync(CancellationToken ct)
        {
            if (factory is not null)
            {
                return _secured ??= await factory.ConnectAsync(new Samsa.Metadata.BrokerEndpoint("", host, port, ""), ct).ConfigureAwait(false);
            }
            if (_client is { Connected: true }) return _client.GetStream();
            Reset();
            var client = new TcpClient { NoDelay = true };
            try
            {
                await client.ConnectAsync(host, port, ct).ConfigureAwait(false);
            }
            catch
            {
                client.Dispose();
                throw;
            }
            _client = client;
            return client.GetStream();
        }

        public void Reset()
        {
            _client?.Dispose();
            _client = null;
            _secured?.Dispose();
            _secured = null;
        }
    }
}
