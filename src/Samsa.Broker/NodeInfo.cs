using Samsa.Metadata;

namespace Samsa.Broker;

/// <summary>This node's identity as clients see it: id, cluster id, and the advertised endpoint per listener.</summary>
public sealed record NodeInfo(int NodeId, string ClusterId, string? Rack, IReadOnlyList<BrokerEndpoint> AdvertisedEndpoints)
{
    /// <summary>The endpoint a broker advertises to a client connected through <paramref name="listenerName"/>.</summary>
    public static BrokerEndpoint? EndpointFor(BrokerImage broker, string listenerName) =>
        broker.Endpoints.FirstOrDefault(e => e.Name == listenerName) ?? broker.Endpoints.FirstOrDefault();
}
