using System.Globalization;
using System.Net;

namespace Samsa.Broker.Configuration;

/// <summary>
/// One entry of <c>listeners</c> / <c>advertised.listeners</c>: <c>NAME://host:port</c>. The name is upper-cased
/// (Kafka listener names are case-insensitive and conventionally upper case); an empty host means every interface and
/// is stored as 0.0.0.0; IPv6 hosts are written in brackets and stored without them; port 0 asks for an ephemeral port.
/// </summary>
public sealed record ListenerEndpoint(string Name, SecurityProtocol SecurityProtocol, string Host, int Port)
{
    /// <summary>True when the host binds every interface (0.0.0.0 or ::).</summary>
    public bool IsWildcard => Host is "0.0.0.0" or "::";

    /// <summary>The address to bind: the literal IP, or null when the host is a name to resolve.</summary>
    public IPAddress? Address => IPAddress.TryParse(Host, out var address) ? address : null;

    public override string ToString()
    {
        var host = Host.Contains(':') ? $"[{Host}]" : Host;
        return $"{Name}://{host}:{Port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// Parses a listeners-style list. <paramref name="protocolMap"/> maps upper-case listener names to protocols;
    /// <paramref name="configName"/> is used in error messages.
    /// </summary>
    public static IReadOnlyList<ListenerEndpoint> ParseList(
        string configName, string? value, IReadOnlyDictionary<string, SecurityProtocol> protocolMap)
    {
        var result = new List<ListenerEndpoint>();
        foreach (var item in ConfigDefinition.SplitList(value))
        {
            var endpoint = Parse(configName, item, protocolMap);
            if (result.Any(e => e.Name == endpoint.Name))
            {
                throw ConfigException.InvalidValue(configName, value, $"listener name {endpoint.Name} appears more than once");
            }

            result.Add(endpoint);
        }

        return result;
    }

    public static ListenerEndpoint Parse(string configName, string text, IReadOnlyDictionary<string, SecurityProtocol> protocolMap)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw ConfigException.InvalidValue(configName, text, "expected NAME://host:port, e.g. PLAINTEXT://127.0.0.1:9092");
        }

        var name = text[..schemeEnd].Trim().ToUpperInvariant();
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            throw ConfigException.InvalidValue(configName, text, $"listener name '{name}' may contain only letters, digits, '_', '-' and '.'");
        }

        var hostPort = text[(schemeEnd + 3)..];
        string host;
        string portText;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= hostPort.Length || hostPort[close + 1] != ':')
            {
                throw ConfigException.InvalidValue(configName, text, "expected [ipv6-address]:port");
            }

            host = hostPort[1..close];
            portText = hostPort[(close + 2)..];
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            if (colon < 0 || hostPort.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                throw ConfigException.InvalidValue(configName, text, "expected NAME://host:port (write IPv6 hosts in brackets)");
            }

            host = hostPort[..colon];
            portText = hostPort[(colon + 1)..];
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw ConfigException.InvalidValue(configName, text, $"port '{portText}' must be an integer between 0 and 65535");
        }

        if (host.Length == 0)
        {
            host = "0.0.0.0";
        }

        if (!protocolMap.TryGetValue(name, out var protocol))
        {
            throw ConfigException.InvalidValue(configName, text,
                $"no security protocol defined for listener {name}; add {name}:<protocol> to listener.security.protocol.map");
        }

        return new ListenerEndpoint(name, protocol, host, port);
    }

    /// <summary>Parses <c>listener.security.protocol.map</c>: NAME:PROTOCOL pairs separated by commas.</summary>
    public static IReadOnlyDictionary<string, SecurityProtocol> ParseProtocolMap(string configName, string? value)
    {
        var map = new Dictionary<string, SecurityProtocol>(StringComparer.Ordinal);
        foreach (var pair in ConfigDefinition.SplitList(value))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !SecurityProtocolNames.TryParse(pair[(colon + 1)..], out var protocol))
            {
                throw ConfigException.InvalidValue(configName, value,
                    $"entry '{pair}' must be NAME:PROTOCOL with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
            }

            map[pair[..colon].Trim().ToUpperInvariant()] = protocol;
        }

        return map;
    }
}
