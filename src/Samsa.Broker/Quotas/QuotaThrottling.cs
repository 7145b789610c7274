using Samsa.Broker.Api;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Quotas;

/// <summary>How the Produce and Fetch handlers apply byte-rate quotas (Kafka's KafkaApis throttling steps).</summary>
public sealed partial class ClientQuotas
{
    /// <summary>
    /// Records the request's record bytes against producer_byte_rate; when over quota mutes the connection for the
    /// returned throttle time (KIP-219: the response goes out at once with throttle_time_ms, the next request waits).
    /// </summary>
    public int ThrottleProduce(RequestContext context, ProduceRequest request)
    {
        long bytes = 0;
        foreach (var topic in request.TopicData)
            foreach (var partition in topic.PartitionData)
                bytes += partition.Records?.Length ?? 0;
        int throttle = Produce.RecordAndGetThrottleTimeMs(context.Session.Principal, context.Header.ClientId, bytes);
        if (throttle > 0) context.Session.Mute(TimeSpan.FromMilliseconds(throttle));
        return throttle;
    }

    /// <summary>
    /// Records a fetch response's bytes against consumer_byte_rate. Over quota the value is taken back (the response
    /// is sent without data, as Kafka's getThrottledResponse), the connection is muted, and the throttle time returned.
    /// </summary>
    public int ThrottleFetch(RequestContext context, long bytes)
    {
        var principal = context.Session.Principal;
        string? clientId = context.Header.ClientId;
        int throttle = Fetch.RecordAndGetThrottleTimeMs(principal, clientId, bytes);
        if (throttle <= 0) return 0;
        Fetch.Unrecord(principal, clientId, bytes);
        context.Session.Mute(TimeSpan.FromMilliseconds(throttle));
        return throttle;
    }
}
