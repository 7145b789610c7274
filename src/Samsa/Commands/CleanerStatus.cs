using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Samsa.Commands;

/// <summary>Log cleaner progress of one compacted partition: dirty ratio of its closed segments, end of its last pass (null: never).</summary>
internal sealed record PartitionCleanerStatus(double DirtyRatio, DateTimeOffset? LastCleaned);

/// <summary>
/// Cleaner progress of a compacted topic, read from a node's Prometheus endpoint (samsa_log_cleaner_dirty_ratio and
/// samsa_log_cleaner_last_clean_timestamp_seconds): no Kafka admin API carries it. A node only reports the partitions it
/// hosts, so a partition may be missing from the answer.
/// </summary>
internal static class CleanerStatus
{
    public const string DefaultMetricsUrl = "http://127.0.0.1:8080";
    public const string EnvironmentVariable = "SAMSA_METRICS_URL";
    private const string DirtyRatio = "samsa_log_cleaner_dirty_ratio";
    private const string LastClean = "samsa_log_cleaner_last_clean_timestamp_seconds";

    public static Option<string> CreateOption() => new("--metrics-url")
    {
        Description = "HTTP endpoint of a node (its /metrics), for the cleaner progress of compacted topics. " +
                      $"Default: ${EnvironmentVariable}, else metrics.url of the profile, else {DefaultMetricsUrl}.",
        HelpName = "url",
    };

    /// <summary>The --metrics-url value, else the environment, else the profile, else the default.</summary>
    public static string ResolveUrl(string? option, ClientProfile? profile)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option.Trim();
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment.Trim();
        return profile?.MetricsUrl ?? DefaultMetricsUrl;
    }

    /// <summary>
    /// The topic's partitions as the node reports them, or the reason it could not be asked (unreachable, not an HTTP URL,
    /// an error status). Never throws for a failed request: describe works without it.
    /// </summary>
    public static async Task<(IReadOnlyDictionary<int, PartitionCleanerStatus>? Partitions, string? Failure)> FetchAsync(
        string url, string topic, TimeSpan timeout, CancellationToken ct)
    {
        if (!Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url, UriKind.Absolute, out var baseUri) ||
            baseUri.Scheme is not ("http" or "https"))
        {
            return (null, $"'{url}' is not an HTTP URL");
        }

        var metricsUri = baseUri.AbsolutePath.EndsWith("/metrics", StringComparison.Ordinal) ? baseUri : new Uri(baseUri, "metrics");
        string text;
        try
        {
            using var http = new HttpClient { Timeout = timeout };
            using var response = await http.GetAsync(metricsUri, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return (null, $"{metricsUri} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (null, $"{metricsUri} is unreachable ({(e is TaskCanceledException ? "timed out" : e.Message)})");
        }

        return (Parse(text, topic), null);
    }

    /// <summary>The cleaner samples of <paramref name="topic"/> in Prometheus text format (other lines ignored).</summary>
    public static IReadOnlyDictionary<int, PartitionCleanerStatus> Parse(string text, string topic)
    {
        var ratios = new Dictionary<int, double>();
        var cleaned = new Dictionary<int, DateTimeOffset>();
        foreach (var line in text.Split('\n'))
        {
            bool isRatio = line.StartsWith(DirtyRatio + "{", StringComparison.Ordinal);
            if (!isRatio && !line.StartsWith(LastClean + "{", StringComparison.Ordinal)) continue;
            int close = line.LastIndexOf('}');
            if (close < 0) continue;
            var labels = ParseLabels(line.AsSpan(line.IndexOf('{') + 1, close - line.IndexOf('{') - 1));
            if (labels is null || labels.GetValueOrDefault("topic") != topic ||
                !int.TryParse(labels.GetValueOrDefault("partition"), NumberStyles.None, CultureInfo.InvariantCulture, out int partition) ||
                !double.TryParse(line.AsSpan(close + 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                continue;
            }

            if (isRatio) ratios[partition] = value;
            else cleaned[partition] = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(value * 1000));
        }

        return ratios.ToDictionary(r => r.Key, r => new PartitionCleanerStatus(r.Value, cleaned.TryGetValue(r.Key, out var at) ? at : null));
    }

    /// <summary>name="value",... with the exposition format's escapes (\\, \", \n); null when malformed.</summary>
    private static Dictionary<string, string>? ParseLabels(ReadOnlySpan<char> text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        while (i < text.Length)
        {
            int eq = text[i..].IndexOf("=\"");
            if (eq < 0) return null;
            string name = text.Slice(i, eq).ToString();
            i += eq + 2;
            var value = new StringBuilder();
            while (i < text.Length && text[i] != '"')
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                    value.Append(text[i] == 'n' ? '\n' : text[i]);
                }
                else
                {
                    value.Append(text[i]);
                }

                i++;
            }

            if (i >= text.Length) return null;
            labels[name] = value.ToString();
            i++; // closing quote
            if (i < text.Length && text[i] == ',') i++;
        }

        return labels;
    }
}
