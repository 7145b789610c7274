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

    public string Host => RemoteEndPoint is IPEndPoint ip ? ip.Address.ToString() : "unknown";
}

/// <summary>What a handler knows about the request it serves.</summary>
public sealed class RequestContext(RequestHeader header, ClientSession session, IAuthorizer authorizer)
{
    public RequestHeader Header { get; } = header;
    public short ApiVersion => Header.ApiVersion;
    public ClientSession Session { get; } = session;

    public bool Authorize(AclOperation operation, ResourceType resourceType, string resourceName) =>
        authorizer.Authorize(Session.Principal, Session.Host, operation, resourceType, resourceName);
}
