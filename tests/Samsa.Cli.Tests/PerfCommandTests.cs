using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>
/// `samsa perf` runs end to end on a small count against a real in-process node. Only completeness and the shape of
/// the summary are checked: a benchmark is never a timed test, so no rate or latency is asserted.
/// </summary>
public sealed class PerfCommandTests(ITestOutputHelper output)
{
    private async Task<SamsaCli.Result> Run(TestBroker broker, params string[] args)
    {
        var result = await SamsaCli.RunAsync([.. args, "--bootstrap-server", broker.BootstrapServers], null, TimeSpan.FromSeconds(120));
        output.WriteLine($"$ samsa {string.Join(' ', args)}");
        output.WriteLine(result.Stdout);
        output.WriteLine("[stderr] " + result.Stderr);
        return result;
    }

    [Fact]
    public async Task Produce_consume_and_end_to_end_print_summaries()
    {
        await using var broker = await TestBroker.StartAsync();

        var produce = await Run(broker, "perf", "produce", "--records", "1000", "--record-size", "64", "--partitions", "2", "--topic", "perf");
        Assert.True(produce.ExitCode == 0, produce.ToString());
        Assert.Contains("produce: 1000 records", produce.Stdout);
        Assert.Contains("p99.9", produce.Stdout);

        var consume = await Run(broker, "perf", "consume", "--topic", "perf", "--json");
        Assert.True(consume.ExitCode == 0, consume.ToString());
        var json = JsonDocument.Parse(consume.Stdout).RootElement;
        Assert.Equal(1000, json.GetProperty("records").GetInt64());
        Assert.Equal(64_000, json.GetProperty("bytes").GetInt64());
        Assert.True(json.GetProperty("complete").GetBoolean());

        var e2e = await Run(broker, "perf", "end-to-end", "--records", "500", "--record-size", "16", "--throughput", "5000", "--topic", "e2e", "--json");
        Assert.True(e2e.ExitCode == 0, e2e.ToString());
        var summary = JsonDocument.Parse(e2e.Stdout).RootElement;
        Assert.Equal(500, summary.GetProperty("records").GetInt64());
        Assert.Equal(500, summary.GetProperty("produce").GetProperty("records").GetInt64());
        Assert.True(summary.GetProperty("latencyMs").GetProperty("max").GetDouble() >= summary.GetProperty("latencyMs").GetProperty("p50").GetDouble());
    }

    [Fact]
    public async Task Invalid_options_are_usage_errors()
    {
        await using var broker = await TestBroker.StartAsync();
        var result = await Run(broker, "perf", "end-to-end", "--records", "10", "--record-size", "4");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--record-size", result.Stderr);
    }
}
