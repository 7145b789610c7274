using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Network.InterBroker;

/// <summary>
/// A Kafka client connection from this node to one other node (Kafka's NetworkClient, reduced to one peer).
/// Any request type of the protocol's <see cref="MessageRegistry"/> can be sent; requests are multiplexed on one
/// connection (many in flight, matched to responses by correlation id, headers versioned as the message's
/// flexibility requires). The connection is opened lazily and reopened after a failure, waiting an exponential
/// backoff between attempts; the peer's endpoint is resolved again on each attempt (a restarted node may have
/// moved). On connect the peer's ApiVersions are fetched, so a request without an explicit version uses the
/// highest version both sides speak.
/// Thread-safety: every member may be called concurrently. A request that times out closes the connection (its
/// state is unknown, as in Kafka); the requests in flight on it fail with <see cref="BrokerUnavailableException"/>.
/// Note: Samsa (and Kafka) answer one non-Produce request per connection at a time, so a long-polling Fetch holds
/// the connection: give such loops a dedicated channel (<see cref="BrokerChannelPool.CreateDedicated"/>).
/// </summary>
internal sealed class BrokerChannel : IAsyncDisposable
{
    private readonly Func<BrokerEndpoint?> _resolve;
    private readonly IBrokerConnectionFactory _factory;
    private readonly BrokerChannelOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Random _jitter = new();
    private Connection? _connection;
    private int _failures;
    private long _nextAttempt; // TimeProvider timestamp before which no connection is attempted

    public BrokerChannel(int nodeId, Func<BrokerEndpoint?> resolve, IBrokerConnectionFactory factory, BrokerChannelOptions options, ILogger logger)
    {
        NodeId = nodeId;
        _resolve = resolve;
        _factory = factory;
        _options = options;
        _logger = logger;
    }

    public int NodeId { get; }

    public bool IsConnected => Volatile.Read(ref _connection) is { IsOpen: true };

    /// <summary>The peer's supported versions from the last ApiVersions exchange (null before the first connection).</summary>
    public IReadOnlyDictionary<ApiKey, VersionRange>? PeerVersions => Volatile.Read(ref _connection)?.Versions;

    /// <summary>
    /// Sends a request and returns its response. <paramref name="version"/> null means the highest version both this
    /// codec and the peer support. Byte fields of the response are copies owned by the caller.
    /// Throws <see cref="TimeoutException"/> after <paramref name="timeout"/> (default: the channel's request timeout,
    /// which includes waiting to connect), <see cref="BrokerUnavailableException"/> when the peer cannot be reached or
    /// the connection drops, <see cref="ProtocolException"/> (UNSUPPORTED_VERSION) when the peer lacks the version.
    /// </summary>
    public async Task<TResponse> SendAsync<TRequest, TResponse>(
        TRequest request, short? version = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TRequest : class
        where TResponse : class, new()
    {
        using var response = await SendCoreAsync<TRequest, TResponse>(request, version, timeout, pooled: false, cancellationToken).ConfigureAwait(false);
        return response.Body;
    }

    /// <summary>
    /// As <see cref="SendAsync{TRequest,TResponse}"/>, but the response frame is a pooled buffer that byte fields (Fetch
    /// records) point into: the caller disposes the result after its last use. The replica fetcher's path.
    /// </summary>
    public Task<InterBrokerResponse<TResponse>> SendPooledAsync<TRequest, TResponse>(
        TRequest request, short? version = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TRequest : class
        where TResponse : class, new() =>
        SendCoreAsync<TRequest, TResponse>(request, version, timeout, pooled: true, cancellationToken);

    private async Task<InterBrokerResponse<TResponse>> SendCoreAsync<TRequest, TResponse>(
        TRequest request, short? version, TimeSpan? timeout, bool pooled, CancellationToken cancellationToken)
        where TRequest : class
        where TResponse : class, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var requestInfo = MessageRegistry.Info(typeof(TRequest));
        var responseInfo = MessageRegistry.Info(typeof(TResponse));
        if (requestInfo.Kind != MessageKind.Request || responseInfo.Kind != MessageKind.Response || requestInfo.ApiKey != responseInfo.ApiKey)
            throw new ArgumentException($"{typeof(TRequest).Name} and {typeof(TResponse).Name} are not the request and response of one API.");
        var apiKey = requestInfo.ApiKey;

        var limit = timeout ?? _options.RequestTimeout;
        using var timer = new CancellationTokenSource(limit, _options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token, timer.Token);
        var token = linked.Token;
        Connection? connection = null;
        Pending? pending = null;
        short v = 0;
        try
        {
            connection = await GetConnectionAsync(token).ConfigureAwait(false);
            var ours = new VersionRange(
                Math.Max(requestInfo.ValidVersions.Min, responseInfo.ValidVersions.Min),
                Math.Min(requestInfo.ValidVersions.Max, responseInfo.ValidVersions.Max));
            v = connection.ChooseVersion(apiKey, version, ours);
            pending = await connection.SendAsync(apiKey, v, request, pooled, token).ConfigureAwait(false);
            var frame = await pending.Task.WaitAsync(token).ConfigureAwait(false);
            try
            {
                var (_, body) = KafkaFrames.ReadResponse<TResponse>(frame.Memory, apiKey, v);
                return new InterBrokerResponse<TResponse>(body, v, pooled ? frame.Array : null);
            }
            catch (ProtocolException e)
            {
                frame.Release();
                connection.Close($"malformed {apiKey} v{v} response: {e.Message}");
                throw new BrokerUnavailableException($"Node {NodeId} sent a malformed {apiKey} v{v} response: {e.Message}", e);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (pending is not null) connection!.Forget(pending);
            if (_disposed.IsCancellationRequested) throw new ObjectDisposedException(nameof(BrokerChannel));
            // Kafka's NetworkClient disconnects on a request timeout: whatever the peer is doing, the connection's
            // state is unknown, and a fresh one either works or fails fast.
            if (pending is not null) connection!.Close($"{apiKey} v{v} timed out after {limit.TotalMilliseconds:F0} ms");
            throw new TimeoutException($"{apiKey} to node {NodeId} timed out after {limit.TotalMilliseconds:F0} ms.");
        }
        catch (OperationCanceledException)
        {
            if (pending is not null) connection!.Forget(pending);
            throw;
        }
    }

    private async ValueTask<Connection> GetConnectionAsync(CancellationToken token)
    {
        var current = Volatile.Read(ref _connection);
        if (current is { IsOpen: true }) return current;
        await _connectLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            current = _connection;
            if (current is { IsOpen: true }) return current;
            if (current is not null)
            {
                await current.DisposeAsync().ConfigureAwait(false);
                Volatile.Write(ref _connection, null);
            }
            var time = _options.Time;
            var wait = time.GetElapsedTime(time.GetTimestamp(), _nextAttempt);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, time, token).ConfigureAwait(false);

            var endpoint = _resolve();
            if (endpoint is null)
            {
                Backoff();
                throw new BrokerUnavailableException($"Node {NodeId} has no registered endpoint for the inter-broker listener.");
            }
            Connection? connection = null;
            try
            {
                using var connectTimer = new CancellationTokenSource(_options.ConnectTimeout, time);
                using var connectToken = CancellationTokenSource.CreateLinkedTokenSource(token, connectTimer.Token);
                var stream = await _factory.ConnectAsync(endpoint, connectToken.Token).ConfigureAwait(false);
                connection = new Connection(this, stream, endpoint);
                if (_options.NegotiateVersions) await connection.NegotiateAsync(connectToken.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolException
                                          || (e is OperationCanceledException && !token.IsCancellationRequested))
            {
                if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
                Backoff();
                if (_failures == 1)
                    _logger.LogWarning("Cannot connect to node {NodeId} at {Host}:{Port}: {Reason}; retrying with backoff",
                        NodeId, endpoint.Host, endpoint.Port, e.Message);
                else
                    _logger.LogDebug("Cannot connect to node {NodeId} at {Host}:{Port} (attempt {Attempt}): {Reason}",
                        NodeId, endpoint.Host, endpoint.Port, _failures, e.Message);
                throw new BrokerUnavailableException($"Cannot connect to node {NodeId} at {endpoint.Host}:{endpoint.Port}: {e.Message}", e);
            }
            catch
            {
                if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
                Backoff();
                throw;
            }
            if (_failures > 0)
                _logger.LogInformation("Connected to node {NodeId} at {Host}:{Port} after {Failures} failed attempt(s)",
                    NodeId, endpoint.Host, endpoint.Port, _failures);
            _failures = 0;
            Volatile.Write(ref _connection, connection);
            return connection;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private void Backoff()
    {
        _failures++;
        double ms = _options.ReconnectBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(_failures - 1, 20));
        ms = Math.Min(ms, _options.ReconnectBackoffMax.TotalMilliseconds);
        double jitter;
        lock (_jitter) jitter = 0.8 + 0.4 * _jitter.NextDouble();
        var time = _options.Time;
        _nextAttempt = time.GetTimestamp() + (long)(ms * jitter / 1000.0 * time.TimestampFrequency);
    }

    /// <summary>Closes the current connection (if any); the next request reconnects. In-flight requests fail.</summary>
    public void Disconnect(string reason) => Volatile.Read(ref _connection)?.Close(reason);

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connection is { } connection) await connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>A response frame (without size prefix) in an exact-size array or a rented, longer one.</summary>
    private readonly record struct Frame(byte[] Array, int Length, bool Pooled)
    {
        public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

        public void Release()
        {
            if (Pooled) ArrayPool<byte>.Shared.Return(Array);
        }
    }

    private sealed class Pending(bool pooled) : TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public bool Pooled { get; } = pooled;
        public int CorrelationId { get; set; }
    }

    /// <summary>One open connection: a writer guarded by a lock, a reader loop completing pending requests.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly BrokerChannel _owner;
        private readonly Stream _stream;
        private readonly BrokerEndpoint _endpoint;
        private readonly PipeReader _reader;
        private readonly PipeWriter _writer;
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly ConcurrentDictionary<int, Pending> _pending = new();
        private readonly CancellationTokenSource _closed = new();
        private readonly Task _readLoop;
        private int _nextCorrelationId;
        private int _isClosed;

        public Connection(BrokerChannel owner, Stream stream, BrokerEndpoint endpoint)
        {
            _owner = owner;
            _stream = stream;
            _endpoint = endpoint;
            _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true, minimumReadSize: 64 * 1024));
            _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
            _readLoop = Task.Run(ReadLoopAsync);
        }

        public bool IsOpen => Volatile.Read(ref _isClosed) == 0;

        public FrozenDictionary<ApiKey, VersionRange>? Versions { get; private set; }

        public short ChooseVersion(ApiKey apiKey, short? requested, VersionRange ours)
        {
            if (Versions is null)
                return requested ?? ours.Max;
            if (!Versions.TryGetValue(apiKey, out var theirs))
                throw new ProtocolException($"Node {_owner.NodeId} does not support {apiKey}.", ErrorCode.UnsupportedVersion);
            if (requested is { } v)
                return theirs.Contains(v) ? v
                    : throw new ProtocolException($"Node {_owner.NodeId} supports {apiKey} {theirs}, not v{v}.", ErrorCode.UnsupportedVersion);
            short max = Math.Min(theirs.Max, ours.Max);
            if (max < Math.Max(theirs.Min, ours.Min))
                throw new ProtocolException($"Node {_owner.NodeId} supports {apiKey} {theirs}; this node speaks {ours}.", ErrorCode.UnsupportedVersion);
            return max;
        }

        /// <summary>
        /// ApiVersions v3; a peer that does not know v3 answers UNSUPPORTED_VERSION with a v0 body listing its ranges
        /// (KIP-511; ApiVersions responses always use response header v0), which is enough.
        /// </summary>
        public async Task NegotiateAsync(CancellationToken token)
        {
            const short version = 3;
            var request = new ApiVersionsRequest { ClientSoftwareName = "samsa", ClientSoftwareVersion = "1.0" };
            var pending = await SendAsync(ApiKey.ApiVersions, version, request, pooled: false, token).ConfigureAwait(false);
            Frame frame;
            try
            {
                frame = await pending.Task.WaitAsync(token).ConfigureAwait(false);
            }
            catch
            {
                Forget(pending);
                throw;
            }
            if (frame.Length < 6) throw new ProtocolException("ApiVersions response too short.");
            var error = (ErrorCode)BinaryPrimitives.ReadInt16BigEndian(frame.Array.AsSpan(4));
            var (_, body) = KafkaFrames.ReadResponse<ApiVersionsResponse>(frame.Memory, ApiKey.ApiVersions,
                error == ErrorCode.UnsupportedVersion ? (short)0 : version);
            if (body.ErrorCode != 0 && (ErrorCode)body.ErrorCode != ErrorCode.UnsupportedVersion)
                throw new ProtocolException($"ApiVersions failed with {(ErrorCode)body.ErrorCode}.", (ErrorCode)body.ErrorCode);
            Versions = body.ApiKeys.ToFrozenDictionary(k => (ApiKey)k.ApiKey, k => new VersionRange(k.MinVersion, k.MaxVersion));
        }

        public async ValueTask<Pending> SendAsync(ApiKey apiKey, short version, object body, bool pooled, CancellationToken token)
        {
            if (!IsOpen) throw new BrokerUnavailableException($"The connection to node {_owner.NodeId} is closed.");
            await _writeLock.WaitAsync(token).ConfigureAwait(false);
            try
            {
                var pending = new Pending(pooled) { CorrelationId = Interlocked.Increment(ref _nextCorrelationId) };
                var header = new RequestHeader(apiKey, version, pending.CorrelationId, _owner._options.ClientId);
                // Registered before the frame leaves, so a fast response always finds it.
                _pending[pending.CorrelationId] = pending;
                try
                {
                    if (!IsOpen) throw new IOException("the connection is closed");
                    // Sizes the frame first and throws ProtocolException, before writing anything, if the body does not fit the version.
                    KafkaFrames.WriteRequest(_writer, header, body);
                    var flushed = await _writer.FlushAsync(token).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled) throw new IOException("the connection was closed while writing");
                }
                catch (ProtocolException)
                {
                    _pending.TryRemove(pending.CorrelationId, out _);
                    throw;
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
                {
                    // A partly written frame leaves the stream unusable.
                    _pending.TryRemove(pending.CorrelationId, out _);
                    Close($"writing {apiKey} failed: {e.Message}");
                    if (e is OperationCanceledException) throw;
                    throw new BrokerUnavailableException($"Sending {apiKey} to node {_owner.NodeId} failed: {e.Message}", e);
                }
                return pending;
            }
            finally
            {
                _writeLock.Release();
            }
        }

        /// <summary>The caller stopped waiting: a response arriving later is dropped.</summary>
        public void Forget(Pending pending) => _pending.TryRemove(pending.CorrelationId, out _);

        private async Task ReadLoopAsync()
        {
            string reason = "closed by the peer";
            try
            {
                while (true)
                {
                    var result = await _reader.ReadAsync(_closed.Token).ConfigureAwait(false);
                    var buffer = result.Buffer;
                    while (TryReadFrame(ref buffer)) { }
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted) break;
                }
            }
            catch (OperationCanceledException)
            {
                reason = "closed";
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or ProtocolException or InvalidOperationException)
            {
                reason = e.Message;
            }
            Close(reason);
        }

        private bool TryReadFrame(ref ReadOnlySequence<byte> buffer)
        {
            if (buffer.Length < 4) return false;
            Span<byte> prefix = stackalloc byte[8];
            buffer.Slice(0, 4).CopyTo(prefix);
            int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
            if (size < 4 || size > _owner._options.MaxResponseBytes)
                throw new ProtocolException($"response frame size {size} outside [4, {_owner._options.MaxResponseBytes}]");
            if (buffer.Length < 4L + size) return false;
            buffer.Slice(4, 4).CopyTo(prefix);
            int correlationId = BinaryPrimitives.ReadInt32BigEndian(prefix);
            if (_pending.TryRemove(correlationId, out var pending))
            {
                var array = pending.Pooled ? ArrayPool<byte>.Shared.Rent(size) : new byte[size];
                buffer.Slice(4, size).CopyTo(array);
                var frame = new Frame(array, size, pending.Pooled);
                if (!pending.TrySetResult(frame)) frame.Release();
            }
            else
            {
                _owner._logger.LogDebug("Node {NodeId}: dropping a response to correlation id {CorrelationId} nobody waits for",
                    _owner.NodeId, correlationId);
            }
            buffer = buffer.Slice(4 + size);
            return true;
        }

        public void Close(string reason)
        {
            if (Interlocked.Exchange(ref _isClosed, 1) != 0) return;
            if (!_owner._disposed.IsCancellationRequested)
                _owner._logger.LogInformation("Connection to node {NodeId} at {Host}:{Port} closed: {Reason}",
                    _owner.NodeId, _endpoint.Host, _endpoint.Port, reason);
            _closed.Cancel();
            foreach (var id in _pending.Keys)
                if (_pending.TryRemove(id, out var pending))
                    pending.TrySetException(new BrokerUnavailableException($"The connection to node {_owner.NodeId} was lost: {reason}"));
            try
            {
                _stream.Dispose();
            }
            catch (IOException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            Close("disposed");
            try
            {
                await _readLoop.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _owner._logger.LogDebug(e, "Node {NodeId}: reader ended with an error", _owner.NodeId);
            }
            await _reader.CompleteAsync().ConfigureAwait(false);
            // The stream is closed, so a writer holding the lock fails fast; completing under the lock keeps the pipe
            // writer from being completed in the middle of someone's write.
            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await _writer.CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }
}
