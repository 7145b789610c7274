using Samsa.Broker.Configuration;
using Samsa.Broker.Network.InterBroker;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// Inter-broker connections on a secured listener: the plaintext factory's TCP socket, then TLS and SASL with this
/// broker's inter-broker settings (<see cref="ClientSecurity.InterBroker"/>): the stream the channel gets is
/// authenticated and ready for Kafka requests.
/// </summary>
internal sealed class SecureConnectionFactory(ClientSecurity security, string clientId) : IBrokerConnectionFactory
{
    /// <summary>The factory for inter.broker.listener.name: plaintext unless that listener uses TLS or SASL.</summary>
    public static IBrokerConnectionFactory InterBroker(BrokerConfig config, string clientId)
    {
        var security = ClientSecurity.InterBroker(config);
        return security.Protocol == SecurityProtocol.Plaintext ? PlaintextConnectionFactory.Instance : new SecureConnectionFactory(security, clientId);
    }

    public async ValueTask<Stream> ConnectAsync(BrokerEndpoint endpoint, CancellationToken cancellationToken)
    {
        var tcp = await PlaintextConnectionFactory.Instance.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return await SecureClientConnection.SecureAsync(tcp, endpoint.Host, security, clientId, cancellationToken).ConfigureAwait(false);
    }
}
