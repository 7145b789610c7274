// SaslHandshake (key 17), versions 0-1.
// Picks the SASL mechanism for the following SaslAuthenticate requests (KIP-152 framing). Deviation: version 0, after
// which Kafka reads raw unframed tokens, answers UNSUPPORTED_VERSION (with the mechanisms) and closes; it is still
// advertised because librdkafka before 2.x only enables SASL when ApiVersions lists SaslHandshake v0 — every maintained
// client (librdkafka, Java, kafkajs) then sends v1.
// An unsupported mechanism answers UNSUPPORTED_SASL_MECHANISM with the enabled list, then the connection is closed.
// KIP-368: a handshake on an authenticated connection starts a re-authentication when connections.max.reauth.ms > 0
// (same mechanism required); otherwise, and on non-SASL listeners, ILLEGAL_SASL_STATE as Kafka's KafkaApis answers.
using Samsa.Broker.Api;
using Samsa.Broker.Security.Authentication;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class SaslHandshakeHandler : ApiHandler<SaslHandshakeRequest, SaslHandshakeResponse>
{
    public override ApiKey ApiKey => ApiKey.SaslHandshake;
    public override VersionRange Versions => new(0, 1);

    protected override async ValueTask<SaslHandshakeResponse?> HandleAsync(RequestContext context, SaslHandshakeRequest request, CancellationToken cancellationToken)
    {
        var response = new SaslHandshakeResponse();
        var sasl = context.Session.Sasl;
        if (sasl is null)
        {
            response.ErrorCode = (short)ErrorCode.IllegalSaslState;
            return response;
        }
        response.Mechanisms = [.. sasl.EnabledMechanisms];
        if (context.ApiVersion == 0)
        {
            response.ErrorCode = (short)ErrorCode.UnsupportedVersion;
            context.Session.CloseAfterResponse = true;
            return response;
        }
        switch (sasl.Handshake(request.Mechanism))
        {
            case HandshakeOutcome.Ok:
                break;
            case HandshakeOutcome.IllegalState:
                response.ErrorCode = (short)ErrorCode.IllegalSaslState;
                context.Session.CloseAfterResponse = !sasl.IsAuthenticated;
                break;
            default: // unsupported, or a re-authentication switching mechanism: an authentication failure, answered late
                response.ErrorCode = (short)ErrorCode.UnsupportedSaslMechanism;
                context.Session.CloseAfterResponse = true;
                await sasl.DelayFailureAsync(cancellationToken).ConfigureAwait(false);
                break;
        }
        return response;
    }
}
