using System.Globalization;

namespace Samsa.Broker.Configuration;

/// <summary>
/// One broker config key as Kafka documents it: type, default (as the string DescribeConfigs reports; null when
/// Kafka has no default), importance, documentation, whether it can be changed at runtime, and — for log.* keys that
/// are cluster-wide defaults of a topic config — the topic config name that falls back to it.
/// </summary>
public sealed record ConfigDefinition(
    string Name,
    ConfigType Type,
    string? Default,
    ConfigImportance Importance,
    string Documentation)
{
    /// <summary>Kafka allows changing this key at runtime with IncrementalAlterConfigs (read_only = false).</summary>
    public bool IsDynamic { get; init; }

    /// <summary>The topic-level config this key is the broker default of (e.g. retention.ms for log.retention.ms).</summary>
    public string? TopicConfigName { get; init; }

    /// <summary>Inclusive lower bound for numeric types.</summary>
    public double? Min { get; init; }

    /// <summary>Inclusive upper bound for numeric types.</summary>
    public double? Max { get; init; }

    /// <summary>Allowed values for strings, or for each element of a list (compared case-sensitively, as Kafka does).</summary>
    public IReadOnlyList<string>? ValidValues { get; init; }

    /// <summary>Passwords are never logged and DescribeConfigs reports them with a null value.</summary>
    public bool IsSensitive => Type == ConfigType.Password;

    /// <summary>
    /// Converts and validates a raw value. Returns bool, int, short, long, double, string or IReadOnlyList&lt;string&gt;;
    /// null when <paramref name="raw"/> is null. Throws <see cref="ConfigException"/> naming the key and value.
    /// </summary>
    public object? Parse(string? raw)
    {
        if (raw is null)
        {
            return null;
        }

        var trimmed = raw.Trim();
        switch (Type)
        {
            case ConfigType.Boolean:
                if (bool.TryParse(trimmed, out var b))
                {
                    return b;
                }

                throw ConfigException.InvalidValue(Name, raw, "expected true or false");
            case ConfigType.Int:
                if (!int.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
                {
                    throw ConfigException.InvalidValue(Name, raw, "not an integer (32-bit)");
                }

                CheckRange(raw, i);
                return i;
            case ConfigType.Short:
                if (!short.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s))
                {
                    throw ConfigException.InvalidValue(Name, raw, "not an integer (16-bit)");
                }

                CheckRange(raw, s);
                return s;
            case ConfigType.Long:
                if (!long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    throw ConfigException.InvalidValue(Name, raw, "not an integer (64-bit)");
                }

                CheckRange(raw, l);
                return l;
            case ConfigType.Double:
                if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                {
                    throw ConfigException.InvalidValue(Name, raw, "not a number");
                }

                CheckRange(raw, d);
                return d;
            case ConfigType.List:
                var items = SplitList(trimmed);
                if (ValidValues is not null)
                {
                    foreach (var item in items)
                    {
                        if (!ValidValues.Contains(item, StringComparer.Ordinal))
                        {
                            throw ConfigException.InvalidValue(Name, raw, $"each element must be one of {string.Join(", ", ValidValues)}");
                        }
                    }
                }

                return items;
            default:
                if (ValidValues is not null && !ValidValues.Contains(trimmed, StringComparer.Ordinal))
                {
                    throw ConfigException.InvalidValue(Name, raw, $"must be one of {string.Join(", ", ValidValues)}");
                }

                return Type == ConfigType.Password ? raw : trimmed;
        }
    }

    /// <summary>Splits a Kafka list value: comma separated, elements trimmed, empty elements dropped.</summary>
    public static IReadOnlyList<string> SplitList(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private void CheckRange(string raw, double value)
    {
        if (Min is { } min && value < min)
        {
            throw ConfigException.InvalidValue(Name, raw, $"must be at least {FormatBound(min)}");
        }

        if (Max is { } max && value > max)
        {
            throw ConfigException.InvalidValue(Name, raw, $"must be at most {FormatBound(max)}");
        }
    }

    private static string FormatBound(double bound) => bound.ToString("0.####", CultureInfo.InvariantCulture);
}
