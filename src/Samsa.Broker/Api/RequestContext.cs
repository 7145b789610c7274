using System.Net;
using Samsa.Broker.Security;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Api;

/// <summary>Per-connection state shared by every request on the connection.</summary>
public sealed class ClientSession(string connectionId, EndPoint? remoteEndPoint, string listenerName, string securityProtocol)
{
    public string ConnectionId { get; } = connectionId;
    public EndPoint? RemoteEndPoint { get; } = remoteEndPoint;
    public string ListenerName { get; } = listenerName;
    public string SecurityProtocol { get; } = securityProtocol;
    public KafkaPrincipal Principal { get; set; } = KafkaPrincipal.Anonymous;
    public string? ClientSoftwareName { get; set; }
    public string? ClientSoftwareVersion { get; set; }

    /// <summary>The client's address as ACLs name it; computed once (authorization runs per resource of every request).</summary>
    public string Host { get; } = remoteEndPoint is IPEndPoint ip ? ip.Address.ToString() : "unknown";

    private long _mutedUntil;

    /// <summary>
    /// KIP-219 channel muting: a quota-violating client's response carries throttle_time_ms and the connection reads
    /// no further request until the throttle time has passed (a longer mute never shortens an earlier one).
    /// </summary>
    public void Mute(TimeSpan duration)
    {
        long until = Environment.TickCount64 + (long)duration.TotalMilliseconds;
        long current;
        while ((current = Volatile.Read(ref _mutedUntil)) < until && Interlocked.CompareExchange(ref _mutedUntil, until, current) != current)
        {
        }
    }

    /// <summary>How long the connection stays muted from now (zero when not muted).</summary>
    public TimeSpan MutedFor => TimeSpan.FromMilliseconds(Math.Max(0, Volatile.Read(ref _mutedUntil) - Environment.TickCount64));

    /// <summary>The SASL state on SASL listeners (null elsewhere); the dispatcher admits requests through it.</summary>
    internal Security.Authentication.SaslSession? Sasl { get; set; }

    /// <summary>Set by a handler whose response must be the last on the connection (failed SASL authentication).</summary>
    internal bool CloseAfterResponse { get; set; }
}

/// <summary>What a handler knows about the request it serves.</summary>
public sealed class RequestContext(RequestHeader header, ClientSession session, IAuthorizer authorizer)
{
    public RequestHeader Header { get; } = header;
    public short ApiVersion => Header.ApiVersion;
    public ClientSession Session { get; } = session;

    private List<IDisposable>? _disposables;

    public bool Authorize(AclOperation operation, ResourceType resourceType, string resourceName) =>
        authorizer.Authorize(Session.Principal, Session.Host, operation, resourceType, resourceName);

    /// <summary>Whether the principal may perform <paramref name="operation"/> on at least one resource of the type.</summary>
    public bool AuthorizeByResourceType(AclOperation operation, ResourceType resourceType) =>
        authorizer.AuthorizeByResourceType(Session.Principal, Session.Host, operation, resourceType);

    /// <summary>The broker's authorizer (the ACL APIs need to know whether ACLs are supported at all).</summary>
    public IAuthorizer Authorizer => authorizer;

    /// <summary>
    /// Hands <paramref name="resource"/> (e.g. a pooled buffer the response refers to) to the dispatcher, which disposes
    /// it once the response has been written into the connection's output, or when the request ends without one
    /// (no response due, an error, a closed connection). Called from the handler's own flow, not concurrently.
    /// </summary>
    public void RegisterForDispose(IDisposable resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        (_disposables ??= []).Add(resource);
    }

    /// <summary>Disposes what was registered, in registration order; every one is disposed even if another throws.</summary>
    internal void DisposeRegistered()
    {
        var disposables = _disposables;
        if (disposables is null) return;
        _disposables = null;
        List<Exception>? errors = null;
        foreach (var resource in disposables)
        {
            try
            {
                resource.Dispose();
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }
        if (errors is not null) throw new AggregateException("Disposing request resources failed.", errors);
    }
}
