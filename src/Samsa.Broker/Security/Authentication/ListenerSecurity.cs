using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Api;
using Samsa.Broker.Configuration;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// Creates the <see cref="ClientSession"/> of each connection on one listener: its security protocol, the principal a
/// client certificate gives on SSL listeners (mapped by ssl.principal.mapping.rules; User:ANONYMOUS without one, as
/// Kafka), and on SASL listeners a <see cref="SaslSession"/> that gates requests until the client authenticates
/// (SASL_SSL: the SASL identity wins over the certificate, as in Kafka).
/// </summary>
internal sealed class ListenerSecurity(ListenerAuthentication settings, IMetadataLog metadata, TimeProvider time, ILogger logger)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ClientSession> _sessions = new();

    public ListenerAuthentication Settings => settings;

    /// <summary>The sessions of this listener's open connections (their principals), for operators' views and tests.</summary>
    public IReadOnlyCollection<ClientSession> Sessions => _sessions.Values.ToArray();

    /// <summary>Null when the connection must be closed (a client certificate no mapping rule applies to).</summary>
    public ClientSession? CreateSession(ConnectionContext connection)
    {
        var session = new ClientSession(connection.ConnectionId, connection.RemoteEndPoint, settings.ListenerName, settings.Protocol.ToKafkaName());
        _sessions[connection.ConnectionId] = session;
        connection.ConnectionClosed.Register(() => _sessions.TryRemove(connection.ConnectionId, out _));
        if (settings.IsSasl)
        {
            session.Sasl = new SaslSession(settings, ScramCredential, time);
            return session;
        }
        if (settings.Tls is { } tls && connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate is { } certificate)
        {
            string dn = PrincipalMapper.Rfc2253(certificate.SubjectName);
            var name = tls.PrincipalMapper.Map(dn);
            if (name is null)
            {
                logger.LogInformation("Closing connection {Connection} from {Remote}: no ssl.principal.mapping.rules rule applies to certificate subject {Subject}",
                    connection.ConnectionId, connection.RemoteEndPoint, dn);
                _sessions.TryRemove(connection.ConnectionId, out _);
                return null;
            }
            session.Principal = new KafkaPrincipal("User", name);
        }
        return session;
    }

    private ScramCredentialImage? ScramCredential(string user, ScramMechanism mechanism) =>
        metadata.Image.ScramCredentials.GetValueOrDefault((user, mechanism));
}
