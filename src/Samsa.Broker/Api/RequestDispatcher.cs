using System.Buffers;
using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Api;

public enum DispatchOutcome
{
    /// <summary>A response was written (or none was due) and the connection stays open.</summary>
    Continue,
    /// <summary>The request was malformed or unsupported in a way Kafka answers by closing the connection.</summary>
    Close,
}

/// <summary>
/// Routes a request frame to its handler. The handler table is the single source of truth for supported versions:
/// ApiVersions advertises it and the dispatcher enforces it, so they cannot drift.
/// </summary>
public sealed class RequestDispatcher
{
    private readonly FrozenDictionary<ApiKey, IApiHandler> _handlers;
    private readonly IAuthorizer _authorizer;
    private readonly ILogger _logger;
    private readonly BrokerMetrics _metrics;

    public RequestDispatcher(IEnumerable<IApiHandler> handlers, IAuthorizer authorizer, BrokerMetrics metrics, ILogger<RequestDispatcher> logger)
    {
        _handlers = handlers.ToFrozenDictionary(h => h.ApiKey);
        _authorizer = authorizer;
        _metrics = metrics;
        _logger = logger;
    }

    public IEnumerable<IApiHandler> Handlers => _handlers.Values.OrderBy(h => h.ApiKey);

    /// <summary>The advertised version table, sorted by API key.</summary>
    public List<ApiVersionsResponse.ApiVersion> SupportedVersions() =>
        Handlers.Select(h => new ApiVersionsResponse.ApiVersion
        {
            ApiKey = (short)h.ApiKey, MinVersion = h.Versions.Min, MaxVersion = h.Versions.Max,
        }).ToList();

    /// <param name="frame">The request frame without its size prefix; must stay valid until this call completes.</param>
    /// <param name="previous">
    /// When requests of one connection are pipelined, the previous request's processing (response written and flushed):
    /// this request's response is written only after it, so responses stay in request order.
    /// </param>
    public async ValueTask<DispatchOutcome> DispatchAsync(
        ClientSession session, ReadOnlyMemory<byte> frame, IBufferWriter<byte> output, CancellationToken cancellationToken,
        Task<DispatchOutcome>? previous = null)
    {
        var reader = new KafkaReader(frame);
        RequestHeader header;
        try
        {
            header = KafkaFrames.ReadRequestHeader(reader);
        }
        catch (ProtocolException e)
        {
            _logger.LogInformation("Closing connection {Connection} from {Remote}: malformed request header ({Reason})",
                session.ConnectionId, session.RemoteEndPoint, e.Message);
            return DispatchOutcome.Close;
        }

        if (session.Sasl is { } sasl && !sasl.Admits(header.ApiKey))
        {
            // Kafka: before authentication (or after a KIP-368 session expired) only ApiVersions and the SASL requests
            // are accepted; anything else closes the connection without reaching a handler.
            _logger.LogInformation("Closing connection {Connection} from {Remote}: {Api} on listener {Listener} {State}",
                session.ConnectionId, session.RemoteEndPoint, header.ApiKey, session.ListenerName,
                sasl.IsAuthenticated ? "after the SASL session expired (connections.max.reauth.ms)" : "before SASL authentication");
            return DispatchOutcome.Close;
        }

        if (!_handlers.TryGetValue(header.ApiKey, out var handler))
        {
            _logger.LogInformation("Closing connection {Connection} from {Remote}: unknown API key {ApiKey}",
                session.ConnectionId, session.RemoteEndPoint, (short)header.ApiKey);
            return DispatchOutcome.Close;
        }

        if (!handler.Versions.Contains(header.ApiVersion))
        {
            if (header.ApiKey == ApiKey.ApiVersions)
            {
                // KIP-511: answer with version 0 and the supported ranges so the client can pick a version.
                var response = new ApiVersionsResponse { ErrorCode = (short)ErrorCode.UnsupportedVersion, ApiKeys = SupportedVersions() };
                KafkaFrames.WriteResponse(output, ApiKey.ApiVersions, 0, header.CorrelationId, response);
                return DispatchOutcome.Continue;
            }
            _logger.LogInformation("Closing connection {Connection} from {Remote}: unsupported version {Version} of {Api} (supported {Range})",
                session.ConnectionId, session.RemoteEndPoint, header.ApiVersion, header.ApiKey, handler.Versions);
            return DispatchOutcome.Close;
        }

        object request;
        try
        {
            request = MessageCodec.Read(handler.RequestType, reader, header.ApiVersion);
        }
        catch (ProtocolException e)
        {
            _logger.LogInformation("Closing connection {Connection} from {Remote}: malformed {Api} v{Version} request ({Reason})",
                session.ConnectionId, session.RemoteEndPoint, header.ApiKey, header.ApiVersion, e.Message);
            return DispatchOutcome.Close;
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var context = new RequestContext(header, session, _authorizer);
        try
        {
            object? body;
            try
            {
                body = await HandleWithRetryAsync(handler, context, request, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (CloseConnectionException e)
            {
                _logger.LogInformation("Closing connection {Connection} from {Remote}: {Reason}", session.ConnectionId, session.RemoteEndPoint, e.Message);
                return DispatchOutcome.Close;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Unexpected error handling {Api} v{Version} from {Remote}; closing the connection",
                    header.ApiKey, header.ApiVersion, session.RemoteEndPoint);
                return DispatchOutcome.Close;
            }
            _metrics.RecordRequest(header.ApiKey, System.Diagnostics.Stopwatch.GetElapsedTime(started));

            if (previous is not null && await previous.ConfigureAwait(false) == DispatchOutcome.Close) return DispatchOutcome.Close;
            if (body is null) return DispatchOutcome.Continue;
            try
            {
                KafkaFrames.WriteResponse(output, header.ApiKey, header.ApiVersion, header.CorrelationId, body);
                if (session.CloseAfterResponse) return DispatchOutcome.Close;
            }
            catch (ProtocolException e)
            {
                // A handler filled a field the negotiated version cannot carry: a Samsa bug, never the client's fault.
                _logger.LogError(e, "Unexpected error encoding the {Api} v{Version} response for {Remote}; closing the connection",
                    header.ApiKey, header.ApiVersion, session.RemoteEndPoint);
                return DispatchOutcome.Close;
            }
        }
        finally
        {
            // The response now lives in the output's own memory: buffers it referred to (pooled fetch reads) can go back.
            context.DisposeRegistered();
        }
        return DispatchOutcome.Continue;
    }

    /// <summary>
    /// Runs the handler, again when a metadata write lost a race with another node's write (the log moved between the
    /// controller's validation and its append): the handler then re-validates against the newer image. Nothing was
    /// written by the failed attempt, so re-running is safe.
    /// </summary>
    private static async ValueTask<object?> HandleWithRetryAsync(IApiHandler handler, RequestContext context, object request, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await handler.HandleAsync(context, request, ct).ConfigureAwait(false);
            }
            catch (Samsa.Metadata.MetadataConflictException) when (attempt < 10)
            {
            }
        }
    }
}
