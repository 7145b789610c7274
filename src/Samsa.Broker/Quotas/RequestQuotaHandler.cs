using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Samsa.Broker.Api;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Quotas;

/// <summary>
/// The request_percentage quota (Kafka's ClientRequestQuotaManager) as a decorator around a handler. Kafka measures
/// the request handler and network thread time of each request; Samsa has no request thread pool, so it measures
/// the handler's synchronous part (until its first real await: decoding is done, waits for fsync or long polls are
/// not work). The value is percent-seconds, so request_percentage=50 allows half of one thread. Over quota the
/// response carries throttle_time_ms (when larger than a byte-rate throttle) and the connection is muted. Exempt as
/// in Kafka: ApiVersions, SASL, inter-broker APIs, acks=0 produces
/// and follower fetches.
/// </summary>
public sealed class RequestQuotaHandler(IApiHandler inner, ClientQuotas quotas) : IApiHandler
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> s_throttleProperty = new();

    public ApiKey ApiKey => inner.ApiKey;
    public VersionRange Versions => inner.Versions;
    public Type RequestType => inner.RequestType;

    /// <summary>Wraps every handler whose API counts against the request quota (inter-broker APIs are exempt, as in Kafka).</summary>
    public static IApiHandler Wrap(IApiHandler handler, ClientQuotas quotas) =>
        handler.ApiKey is ApiKey.ApiVersions or ApiKey.SaslHandshake or ApiKey.SaslAuthenticate or ApiKey.WriteTxnMarkers or ApiKey.Envelope
            ? handler
            : new RequestQuotaHandler(handler, quotas);

    public async ValueTask<object?> HandleAsync(RequestContext context, object request, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var pending = inner.HandleAsync(context, request, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var response = await pending.ConfigureAwait(false);
        if (request is ProduceRequest { Acks: 0 } || request is FetchRequest { ReplicaId: >= 0 } || request is FetchRequest { ReplicaState.ReplicaId: >= 0 })
            return response;
        int throttle = quotas.Request.RecordAndGetThrottleTimeMs(context.Session.Principal, context.Header.ClientId, elapsed.TotalSeconds * 100);
        if (throttle <= 0) return response;
        context.Session.Mute(TimeSpan.FromMilliseconds(throttle));
        if (response is not null && s_throttleProperty.GetOrAdd(response.GetType(), t => t.GetProperty("ThrottleTimeMs")) is { } property
            && property.GetValue(response) is int current && current < throttle)
            property.SetValue(response, throttle);
        return response;
    }
}
