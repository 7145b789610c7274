using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>
/// `samsa topic describe` on a compacted topic shows the log cleaner's progress (DIRTY-RATIO, LAST-CLEANED), read from
/// the node's /metrics; an unreachable metrics endpoint leaves the table without those columns and a note on stderr.
/// </summary>
public sealed class TopicDescribeCleanerTests(ITestOutputHelper output)
{
    private async Task<SamsaCli.Result> Run(TestBroker broker, IDictionary<string, string?>? environment, params string[] args)
    {
        var result = await SamsaCli.RunAsync([.. args, "--bootstrap-server", broker.BootstrapServers], environment: environment);
        output.WriteLine($"$ samsa {string.Join(' ', args)}");
        output.WriteLine(result.Stdout);
        if (result.Stderr.Length > 0) output.WriteLine("[stderr] " + result.Stderr);
        output.WriteLine($"[exit {result.ExitCode}]");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private Task<SamsaCli.Result> Run(TestBroker broker, params string[] args) => Run(broker, null, args);

    private static string ClosedPortUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }

    [Fact]
    public async Task Describe_shows_dirty_ratio_and_last_clean_of_a_compacted_topic()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["log.cleaner.backoff.ms"] = "50" });
        string metricsUrl = broker.Host.HttpEndpoint!.ToString().TrimEnd('/');
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Run(broker, "topic", "create", "prices", "--partitions", "2", "--config", "cleanup.policy=compact",
            "--config", "segment.bytes=16384", "--config", "min.cleanable.dirty.ratio=0.01");
        await Run(broker, "topic", "create", "plain", "--partitions", "1");
        var lines = new StringBuilder();
        for (int i = 0; i < 3000; i++) lines.Append("sku-").Append(i % 20).Append(':').Append(i).Append(' ').Append('x', 50).Append('\n');
        var produced = await SamsaCli.RunAsync(["produce", "prices", "-K", ":", "-X", "batch.size=8192", "-X", "linger.ms=5", "-b", broker.BootstrapServers],
            lines.ToString());
        Assert.True(produced.ExitCode == 0, produced.ToString());

        // Both partitions cleaned at least once (the node's own view).
        using (var http = new HttpClient { BaseAddress = broker.Host.HttpEndpoint })
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                var text = await http.GetStringAsync("metrics");
                if (Enumerable.Range(0, 2).All(p => text.Contains($"samsa_log_cleaner_last_clean_timestamp_seconds{{topic=\"prices\",partition=\"{p}\"}}", StringComparison.Ordinal)))
                    break;
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "partitions not cleaned:\n" + text);
                await Task.Delay(50);
            }
        }

        var table = await Run(broker, "topic", "describe", "prices", "--metrics-url", metricsUrl);
        var rows = table.StdoutLines.SkipWhile(l => !l.StartsWith("PARTITION", StringComparison.Ordinal)).ToList();
        Assert.Equal(["PARTITION", "LEADER", "REPLICAS", "ISR", "EARLIEST", "LATEST", "DIRTY-RATIO", "LAST-CLEANED"],
            rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        foreach (var row in rows.Skip(1).Take(2))
        {
            var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.InRange(double.Parse(cells[6], CultureInfo.InvariantCulture), 0, 0.5);
            var cleaned = DateTimeOffset.Parse(cells[7], CultureInfo.InvariantCulture);
            Assert.InRange(cleaned, started.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        }
        Assert.Equal("", table.Stderr);

        // JSON, with the URL from the environment.
        var json = await Run(broker, new Dictionary<string, string?> { ["SAMSA_METRICS_URL"] = metricsUrl }, "topic", "describe", "prices", "-o", "json");
        foreach (var p in JsonDocument.Parse(json.Stdout).RootElement.GetProperty("partitions").EnumerateArray())
        {
            Assert.InRange(p.GetProperty("dirtyRatio").GetDouble(), 0, 0.5);
            Assert.True(DateTimeOffset.TryParse(p.GetProperty("lastCleaned").GetString(), CultureInfo.InvariantCulture, out _));
        }

        // From the profile's metrics.url (a Samsa key, not handed to the Kafka client).
        string profile = Path.Combine(Path.GetTempPath(), $"samsa-profile-{Guid.NewGuid():N}.properties");
        await File.WriteAllTextAsync(profile, $"metrics.url={metricsUrl}\n");
        try
        {
            var fromProfile = await Run(broker, "topic", "describe", "prices", "--profile", profile);
            Assert.Contains("DIRTY-RATIO", fromProfile.Stdout);
        }
        finally
        {
            File.Delete(profile);
        }

        // Unreachable endpoint: the usual table, one note on stderr, exit 0.
        var unreachable = await Run(broker, "topic", "describe", "prices", "--metrics-url", ClosedPortUrl());
        Assert.DoesNotContain("DIRTY-RATIO", unreachable.Stdout);
        Assert.Contains("PARTITION", unreachable.Stdout);
        var note = Assert.Single(unreachable.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("samsa: note: cleaner progress", note);
        var unreachableJson = await Run(broker, "topic", "describe", "prices", "-o", "json", "--metrics-url", ClosedPortUrl());
        Assert.False(JsonDocument.Parse(unreachableJson.Stdout).RootElement.GetProperty("partitions")[0].TryGetProperty("dirtyRatio", out _));

        // A topic that is not compacted: no cleaner columns, and the endpoint is not even asked.
        var plain = await Run(broker, "topic", "describe", "plain", "--metrics-url", ClosedPortUrl());
        Assert.DoesNotContain("DIRTY-RATIO", plain.Stdout);
        Assert.Equal("", plain.Stderr);
    }
}
