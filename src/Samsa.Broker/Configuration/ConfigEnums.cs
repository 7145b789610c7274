namespace Samsa.Broker.Configuration;

/// <summary>Value type of a config; the numeric values are the DescribeConfigs (v3+) config_type codes.</summary>
public enum ConfigType : sbyte
{
    Unknown = 0,
    Boolean = 1,
    String = 2,
    Int = 3,
    Short = 4,
    Long = 5,
    Double = 6,
    List = 7,
    Class = 8,
    Password = 9,
}

public enum ConfigImportance
{
    High,
    Medium,
    Low,
}

/// <summary>Where an effective value came from; the numeric values are the DescribeConfigs config_source codes.</summary>
public enum ConfigSource : sbyte
{
    Unknown = 0,
    DynamicTopicConfig = 1,
    DynamicBrokerConfig = 2,
    DynamicDefaultBrokerConfig = 3,
    StaticBrokerConfig = 4,
    DefaultConfig = 5,
    DynamicBrokerLoggerConfig = 6,
    ClientMetricsConfig = 7,
    GroupConfig = 8,
}

/// <summary>Kafka's security protocols; a listener name maps to one through listener.security.protocol.map.</summary>
public enum SecurityProtocol
{
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

public static class SecurityProtocolNames
{
    /// <summary>Parses PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (case-insensitive).</summary>
    public static bool TryParse(string? value, out SecurityProtocol protocol)
    {
        switch (value?.Trim().ToUpperInvariant())
        {
            case "PLAINTEXT": protocol = SecurityProtocol.Plaintext; return true;
            case "SSL": protocol = SecurityProtocol.Ssl; return true;
            case "SASL_PLAINTEXT": protocol = SecurityProtocol.SaslPlaintext; return true;
            case "SASL_SSL": protocol = SecurityProtocol.SaslSsl; return true;
            default: protocol = default; return false;
        }
    }

    /// <summary>The Kafka spelling: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL.</summary>
    public static string ToKafkaName(this SecurityProtocol protocol) => protocol switch
    {
        SecurityProtocol.Plaintext => "PLAINTEXT",
        SecurityProtocol.Ssl => "SSL",
        SecurityProtocol.SaslPlaintext => "SASL_PLAINTEXT",
        SecurityProtocol.SaslSsl => "SASL_SSL",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
    };
}
