using Samsa.Protocol;

namespace Samsa.Broker.Api;

/// <summary>One Kafka API: the versions Samsa serves and the handler. See <see cref="ApiHandler{TRequest,TResponse}"/>.</summary>
public interface IApiHandler
{
    ApiKey ApiKey { get; }

    /// <summary>The versions Samsa serves; ApiVersions advertises exactly these.</summary>
    VersionRange Versions { get; }

    Type RequestType { get; }

    /// <summary>Returns the response body, or null when no response is sent (Produce with acks=0).</summary>
    ValueTask<object?> HandleAsync(RequestContext context, object request, CancellationToken cancellationToken);
}

/// <summary>
/// Base of every handler: validation, authorization and error mapping happen in the handler; the logic lives in
/// the replica manager, coordinators and storage.
/// </summary>
public abstract class ApiHandler<TRequest, TResponse> : IApiHandler
    where TRequest : class, new()
    where TResponse : class
{
    public abstract ApiKey ApiKey { get; }
    public abstract VersionRange Versions { get; }
    public Type RequestType => typeof(TRequest);

    async ValueTask<object?> IApiHandler.HandleAsync(RequestContext context, object request, CancellationToken cancellationToken) =>
        await HandleAsync(context, (TRequest)request, cancellationToken).ConfigureAwait(false);

    protected abstract ValueTask<TResponse?> HandleAsync(RequestContext context, TRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Thrown by a handler when Kafka's answer is to close the connection (e.g. a failed acks=0 produce, which has no
/// response to carry the error). The dispatcher closes the connection and logs the reason at Information level.
/// </summary>
public sealed class CloseConnectionException(string reason) : Exception(reason);
