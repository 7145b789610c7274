using System.Net;
using System.Net.Sockets;
using Samsa.Metadata;

namespace Samsa.Broker.Network.InterBroker;

/// <summary>
/// Opens the byte stream of one inter-broker connection. This is the seam for security: a TLS factory wraps the
/// socket in an SslStream, a SASL factory runs SaslHandshake/SaslAuthenticate over the stream (with
/// <see cref="Samsa.Protocol.Serialization.KafkaFrames"/>) before returning it. The returned stream is ready for
/// Kafka request frames; the channel owns and disposes it.
/// </summary>
internal interface IBrokerConnectionFactory
{
    ValueTask<Stream> ConnectAsync(BrokerEndpoint endpoint, CancellationToken cancellationToken);
}

/// <summary>PLAINTEXT: a TCP socket with Nagle off (requests are written whole, latency matters for acks=all).</summary>
internal sealed class PlaintextConnectionFactory : IBrokerConnectionFactory
{
    public static readonly PlaintextConnectionFactory Instance = new();

    public async ValueTask<Stream> ConnectAsync(BrokerEndpoint endpoint, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0) throw new IOException($"Host {endpoint.Host} has no address.");
        var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new NetworkStream(socket, ownsSocket: true);
    }
}
