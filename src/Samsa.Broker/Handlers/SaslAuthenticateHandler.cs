// SaslAuthenticate (key 36), versions 0-2.
// Carries the tokens of the mechanism chosen by SaslHandshake (KIP-152). A failed exchange answers
// SASL_AUTHENTICATION_FAILED with Kafka's generic message (the reason goes to the broker log only, never a secret)
// after connection.failed.authentication.delay.ms, and closes the connection. v1+ carries session_lifetime_ms (KIP-368: connections.max.reauth.ms, 0 = no expiry).
// Without an exchange in progress (or on a non-SASL listener): ILLEGAL_SASL_STATE.
using Microsoft.Extensions.Logging;
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Security.Authentication;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class SaslAuthenticateHandler(ILogger<SaslAuthenticateHandler> logger) : ApiHandler<SaslAuthenticateRequest, SaslAuthenticateResponse>
{
    public override ApiKey ApiKey => ApiKey.SaslAuthenticate;
    public override VersionRange Versions => new(0, 2);

    protected override async ValueTask<SaslAuthenticateResponse?> HandleAsync(RequestContext context, SaslAuthenticateRequest request, CancellationToken cancellationToken)
    {
        var response = new SaslAuthenticateResponse();
        var session = context.Session;
        var sasl = session.Sasl;
        if (sasl is null)
        {
            response.ErrorCode = (short)ErrorCode.IllegalSaslState;
            response.ErrorMessage = "SaslAuthenticate on a listener without SASL";
            return response;
        }
        string? mechanism = sasl.PendingMechanism;
        bool wasAuthenticated = sasl.IsAuthenticated;
        try
        {
            var outcome = sasl.Authenticate(request.AuthBytes);
            response.AuthBytes = outcome.Challenge;
            if (outcome.Complete)
            {
                session.Principal = new KafkaPrincipal("User", sasl.AuthenticatedUser!);
                if (context.ApiVersion >= 1) response.SessionLifetimeMs = outcome.SessionLifetimeMs;
                logger.LogDebug("Connection {Connection} from {Remote} {Action} as {Principal} with {Mechanism}",
                    session.ConnectionId, session.RemoteEndPoint, wasAuthenticated ? "re-authenticated" : "authenticated", session.Principal, sasl.Mechanism);
            }
        }
        catch (InvalidOperationException e)
        {
            response.ErrorCode = (short)ErrorCode.IllegalSaslState;
            response.ErrorMessage = e.Message;
            session.CloseAfterResponse = !sasl.IsAuthenticated;
        }
        catch (SaslAuthenticationException e)
        {
            logger.LogInformation("Failed authentication of connection {Connection} from {Remote} on listener {Listener} with {Mechanism}: {Reason}",
                session.ConnectionId, session.RemoteEndPoint, session.ListenerName, mechanism, e.Message);
            response.ErrorCode = (short)ErrorCode.SaslAuthenticationFailed;
            response.ErrorMessage = $"Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}";
            session.CloseAfterResponse = true;
            await sasl.DelayFailureAsync(cancellationToken).ConfigureAwait(false);
        }
        return response;
    }
}
