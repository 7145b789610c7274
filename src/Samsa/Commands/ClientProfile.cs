using Samsa.Broker.Configuration;

namespace Samsa.Commands;

/// <summary>
/// A client profile: a Java properties file of Kafka client settings (bootstrap.servers, security.protocol,
/// sasl.mechanism, sasl.username, sasl.password, ssl.ca.location, ...) every client verb starts from, as a
/// kcat config file or kafka-*.sh --command-config. Chosen by --profile, else $SAMSA_PROFILE, else
/// $XDG_CONFIG_HOME/samsa/profile.properties (~/.config/samsa/profile.properties) when that file exists.
/// Precedence of each setting: command line (--bootstrap-server, -X) over environment over profile over defaults.
/// </summary>
internal sealed record ClientProfile(string Path, string? BootstrapServers, IReadOnlyList<KeyValuePair<string, string>> Properties)
{
    public const string EnvironmentVariable = "SAMSA_PROFILE";
    public const string BootstrapKey = "bootstrap.servers";

    /// <summary>Samsa-only key: the node's HTTP endpoint (/metrics), read by verbs that show what no Kafka API carries.</summary>
    public const string MetricsUrlKey = "metrics.url";

    /// <summary>metrics.url of the profile, if set (not passed to the Kafka client).</summary>
    public string? MetricsUrl { get; init; }

    /// <summary>~/.config/samsa/profile.properties, or under $XDG_CONFIG_HOME when set.</summary>
    public static string DefaultPath
    {
        get
        {
            var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrWhiteSpace(configHome))
            {
                configHome = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            }

            return System.IO.Path.Combine(configHome, "samsa", "profile.properties");
        }
    }

    /// <summary>
    /// The profile in effect, or null when none was asked for and the default file does not exist. A profile asked for
    /// explicitly (option or environment) that cannot be read is a usage error naming the file and where it came from.
    /// </summary>
    public static ClientProfile? Resolve(string? optionValue)
    {
        string? path;
        string origin;
        if (!string.IsNullOrWhiteSpace(optionValue))
        {
            (path, origin) = (optionValue, "--profile");
        }
        else if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { } fromEnvironment && !string.IsNullOrWhiteSpace(fromEnvironment))
        {
            (path, origin) = (fromEnvironment.Trim(), $"${EnvironmentVariable}");
        }
        else
        {
            path = DefaultPath;
            if (!File.Exists(path))
            {
                return null;
            }

            origin = "the default profile";
        }

        if (!File.Exists(path))
        {
            throw CliException.Usage($"profile file '{path}' (from {origin}) does not exist");
        }

        IReadOnlyDictionary<string, string> properties;
        try
        {
            properties = JavaProperties.ParseFile(path);
        }
        catch (ConfigException e)
        {
            throw CliException.Usage($"profile file '{path}' (from {origin}): {e.Message}");
        }

        var bootstrap = properties.GetValueOrDefault(BootstrapKey);
        var metricsUrl = properties.GetValueOrDefault(MetricsUrlKey);
        var rest = properties.Where(kv => kv.Key != BootstrapKey && kv.Key != MetricsUrlKey).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        return new ClientProfile(path, string.IsNullOrWhiteSpace(bootstrap) ? null : bootstrap.Trim(), rest)
        {
            MetricsUrl = string.IsNullOrWhiteSpace(metricsUrl) ? null : metricsUrl.Trim(),
        };
    }
}
