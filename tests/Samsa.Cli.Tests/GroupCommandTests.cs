using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>`samsa group list|describe|reset-offsets|delete` (the real executable) against a real in-process node.</summary>
public sealed class GroupCommandTests(ITestOutputHelper output)
{
    private static string[] Args(TestBroker broker, params string[] args) => [.. args, "--bootstrap-server", broker.BootstrapServers];

    private async Task<SamsaCli.Result> RunWithInput(TestBroker broker, string? stdin, params string[] args)
    {
        var result = await SamsaCli.RunAsync(Args(broker, args), stdin);
        output.WriteLine($"$ samsa {string.Join(' ', args)}{(stdin is null ? "" : " < input")}");
        output.WriteLine(result.Stdout.Length > 3000 ? result.Stdout[..3000] + "...(truncated)\n" : result.Stdout);
        if (result.Stderr.Length > 0) output.WriteLine("[stderr] " + result.Stderr);
        output.WriteLine($"[exit {result.ExitCode}]");
        return result;
    }

    private Task<SamsaCli.Result> Run(TestBroker broker, params string[] args) => RunWithInput(broker, null, args);

    private async Task<JsonElement> Json(TestBroker broker, params string[] args)
    {
        var result = await Run(broker, [.. args, "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    /// <summary>As <see cref="Json"/>, but null while the command fails (e.g. the group does not exist yet).</summary>
    private static async Task<JsonElement?> TryJson(TestBroker broker, params string[] args)
    {
        var result = await SamsaCli.RunAsync(Args(broker, [.. args, "-o", "json"]));
        return result.ExitCode == 0 ? JsonDocument.Parse(result.Stdout).RootElement : null;
    }

    private static async Task<T> WaitUntil<T>(Func<Task<T>> probe, Func<T, bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (deadline.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"timed out waiting for {what}; last: {value}");
            await Task.Delay(100);
        }
    }

    private sealed record Row(string Topic, int Partition, long? Committed, long? End, long? Lag, string? Member);

    private static List<Row> Rows(JsonElement described) => described.GetProperty("partitions").EnumerateArray()
        .Select(p => new Row(p.GetProperty("topic").GetString()!, p.GetProperty("partition").GetInt32(), NullableLong(p, "committedOffset"),
            NullableLong(p, "logEndOffset"), NullableLong(p, "lag"), p.GetProperty("memberId").GetString()))
        .ToList();

    private static long? NullableLong(JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? null : e.GetProperty(name).GetInt64();

    /// <summary>Log end offset (high watermark) per partition, from `topic describe`.</summary>
    private async Task<Dictionary<int, long>> Produced(TestBroker broker, string topic) =>
        (await Json(broker, "topic", "describe", topic)).GetProperty("partitions").EnumerateArray()
        .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("latestOffset").GetInt64());

    private static string Lines(int from, int count)
    {
        var sb = new StringBuilder();
        for (int i = from; i < from + count; i++) sb.Append($"key-{i}:value-{i}\n");
        return sb.ToString();
    }

    [Fact]
    public async Task Describe_shows_lag_and_reset_offsets_moves_the_group()
    {
        await using var broker = await TestBroker.StartAsync();
        const int n = 600, m = 250;
        Assert.Equal(0, (await Run(broker, "topic", "create", "orders", "-p", "3")).ExitCode);
        Assert.Equal(0, (await RunWithInput(broker, Lines(0, n), "produce", "orders", "-K", ":")).ExitCode);
        var produced = await Produced(broker, "orders");
        Assert.Equal(n, produced.Values.Sum());
        Assert.All(produced.Values, v => Assert.True(v > 0, "keys spread over every partition"));

        var consumed = await Run(broker, "consume", "orders", "--group", "billing", "--from-beginning", "--max", m.ToString());
        Assert.True(consumed.ExitCode == 0, consumed.ToString());
        Assert.Equal(m, consumed.StdoutLines.Length);

        // Lag is exactly produced minus committed, per partition and in total.
        var described = await Json(broker, "group", "describe", "billing");
        Assert.Equal("billing", described.GetProperty("group").GetString());
        Assert.Equal("Empty", described.GetProperty("state").GetString());
        Assert.Equal(0, described.GetProperty("members").GetArrayLength());
        var rows = Rows(described);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal("orders", r.Topic));
        // Every partition of the topic is listed; one the group never read from has no committed offset and no lag.
        Assert.Equal([0, 1, 2], rows.Select(r => r.Partition));
        Assert.Equal(m, rows.Sum(r => r.Committed ?? 0));
        Assert.All(rows, r => Assert.Equal(produced[r.Partition], r.End));
        Assert.All(rows, r => Assert.Equal(produced[r.Partition] - r.Committed, r.Lag));
        Assert.Equal(rows.Where(r => r.Committed is not null).Sum(r => produced[r.Partition]) - m, described.GetProperty("totalLag").GetInt64());
        Assert.Equal(rows.Count(r => r.Committed is null), described.GetProperty("partitionsWithoutCommittedOffset").GetInt32());
        var table = await Run(broker, "group", "describe", "billing");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("CURRENT-OFFSET  LOG-END-OFFSET  LAG", table.Stdout);
        Assert.Contains($"Total lag: {described.GetProperty("totalLag").GetInt64()} over {rows.Count} partition", table.Stdout);

        var list = await Json(broker, "group", "list");
        var listed = Assert.Single(list.EnumerateArray());
        Assert.Equal(("billing", "Empty", "classic"),
            (listed.GetProperty("group").GetString(), listed.GetProperty("state").GetString(), listed.GetProperty("type").GetString()));

        // Dry run: prints the plan, commits nothing.
        var plan = await Json(broker, "group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest");
        Assert.False(plan.GetProperty("executed").GetBoolean());
        Assert.Equal(3, plan.GetProperty("partitions").GetArrayLength());
        Assert.All(plan.GetProperty("partitions").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("newOffset").GetInt64()));
        var dryTable = await Run(broker, "group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest");
        Assert.Contains("Dry run", dryTable.Stderr);
        Assert.Equal(rows, Rows(await Json(broker, "group", "describe", "billing")));

        // --execute --to-earliest: every partition committed at 0, lag N.
        var reset = await Run(broker, "group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest", "--execute");
        Assert.True(reset.ExitCode == 0, reset.ToString());
        described = await Json(broker, "group", "describe", "billing");
        rows = Rows(described);
        Assert.Equal([0, 1, 2], rows.Select(r => r.Partition));
        Assert.All(rows, r => Assert.Equal((0L, produced[r.Partition]), (r.Committed!.Value, r.Lag!.Value)));
        Assert.Equal(n, described.GetProperty("totalLag").GetInt64());

        // --shift-by on one partition, clamped to [earliest, latest] both ways.
        await Run(broker, "group", "reset-offsets", "billing", "--topic", "orders:0", "--shift-by", "7", "--execute");
        Assert.Equal(Math.Min(7, produced[0]), Committed(await Json(broker, "group", "describe", "billing"), 0));
        await Run(broker, "group", "reset-offsets", "billing", "--topic", "orders:0,1", "--shift-by", "-1000", "--execute");
        var afterShift = await Json(broker, "group", "describe", "billing");
        Assert.Equal((0L, 0L), (Committed(afterShift, 0), Committed(afterShift, 1)));
        await Run(broker, "group", "reset-offsets", "billing", "--topic", "orders:2", "--shift-by", "1000000", "--execute");
        afterShift = await Json(broker, "group", "describe", "billing");
        Assert.Equal((produced[2], 0L), (Committed(afterShift, 2), Rows(afterShift).Single(r => r.Partition == 2).Lag!.Value));

        // --to-offset, clamped to the log end.
        await Run(broker, "group", "reset-offsets", "billing", "--topic", "orders", "--to-offset", "5", "--execute");
        var atFive = await Json(broker, "group", "describe", "billing");
        Assert.All(Rows(atFive), r => Assert.Equal(Math.Min(5, produced[r.Partition]), r.Committed));
        Assert.Equal(produced.Values.Sum(v => v - Math.Min(5, v)), atFive.GetProperty("totalLag").GetInt64());

        // Delete on an empty group works; afterwards the group is gone.
        var delete = await Run(broker, "group", "delete", "billing");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Contains("Deleted consumer group 'billing'", delete.Stderr);
        var gone = await Run(broker, "group", "describe", "billing");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Consumer group 'billing' does not exist", gone.Stderr);
        Assert.Equal(1, (await Run(broker, "group", "delete", "billing")).ExitCode);
    }

    private static long Committed(JsonElement described, int partition) => Rows(described).Single(r => r.Partition == partition).Committed!.Value;

    [Fact]
    public async Task Reset_to_datetime_finds_the_first_record_at_or_after_the_time()
    {
        await using var broker = await TestBroker.StartAsync();
        Assert.Equal(0, (await Run(broker, "topic", "create", "timed", "-p", "1")).ExitCode);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        Assert.Equal(0, (await RunWithInput(broker, Lines(0, 10), "produce", "timed", "-K", ":")).ExitCode);
        await Task.Delay(50);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        Assert.Equal(0, (await RunWithInput(broker, Lines(10, 5), "produce", "timed", "-K", ":")).ExitCode);

        async Task<long> ResetTo(string time)
        {
            var r = await Run(broker, "group", "reset-offsets", "timers", "--topic", "timed", "--to-datetime", time, "--execute");
            Assert.True(r.ExitCode == 0, r.ToString());
            return Committed(await Json(broker, "group", "describe", "timers"), 0);
        }

        Assert.Equal(10, await ResetTo(between.ToString("O")));
        Assert.Equal(0, await ResetTo(before.ToUnixTimeMilliseconds().ToString()));
        Assert.Equal(15, await ResetTo(DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ")));
        Assert.Equal(2, (await Run(broker, "group", "reset-offsets", "timers", "--topic", "timed", "--to-datetime", "yesterday")).ExitCode);
    }

    [Fact]
    public async Task Group_with_an_active_member_cannot_be_reset_or_deleted()
    {
        await using var broker = await TestBroker.StartAsync();
        Assert.Equal(0, (await Run(broker, "topic", "create", "live", "-p", "2")).ExitCode);
        Assert.Equal(0, (await RunWithInput(broker, Lines(0, 20), "produce", "live", "-K", ":")).ExitCode);

        // A member that stays in the group until it has read one record produced after it joined.
        var member = SamsaCli.RunAsync(Args(broker, "consume", "live", "--group", "watchers", "--follow", "--max", "1"), timeout: TimeSpan.FromSeconds(60));
        var joined = (await WaitUntil(() => TryJson(broker, "group", "describe", "watchers"),
            d => d is { } j && j.GetProperty("state").GetString() == "Stable" && Rows(j).Count == 2 && Rows(j).All(r => r.Member is not null),
            "a stable member owning both partitions"))!.Value;
        output.WriteLine(joined.ToString());
        Assert.Equal("range", joined.GetProperty("protocol").GetString());
        var memberJson = Assert.Single(joined.GetProperty("members").EnumerateArray());
        Assert.Equal("samsa-cli", memberJson.GetProperty("clientId").GetString());
        Assert.Equal(2, memberJson.GetProperty("assignment").GetArrayLength());
        Assert.All(Rows(joined), r => Assert.Equal((null, null), (r.Committed, r.Lag)));
        var listed = (await Json(broker, "group", "list")).EnumerateArray().Single(g => g.GetProperty("group").GetString() == "watchers");
        Assert.Equal(("Stable", 1), (listed.GetProperty("state").GetString(), listed.GetProperty("members").GetInt32()));

        var delete = await Run(broker, "group", "delete", "watchers");
        Assert.Equal(1, delete.ExitCode);
        Assert.Contains("active members", delete.Stderr);
        Assert.Contains("NON_EMPTY_GROUP", delete.Stderr);

        var reset = await Run(broker, "group", "reset-offsets", "watchers", "--topic", "live", "--to-earliest", "--execute");
        Assert.Equal(1, reset.ExitCode);
        Assert.Contains("only be reset while the group is inactive", reset.Stderr);
        var dry = await Run(broker, "group", "reset-offsets", "watchers", "--topic", "live", "--to-earliest");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("warning", dry.Stderr);
        Assert.All(Rows(await Json(broker, "group", "describe", "watchers")), r => Assert.Null(r.Committed));

        // Let the member read its record and leave; then the (now empty) group can be deleted.
        int round = 0;
        while (!member.IsCompleted && round < 100)
        {
            Assert.Equal(0, (await SamsaCli.RunAsync(Args(broker, "produce", "live", "-q"), $"late-{round++}\n")).ExitCode);
            await Task.WhenAny(member, Task.Delay(300));
        }

        var left = await member;
        output.WriteLine(left.ToString());
        Assert.Equal(0, left.ExitCode);
        await WaitUntil(() => Json(broker, "group", "describe", "watchers"), d => d.GetProperty("state").GetString() == "Empty", "the group to be empty");
        var deleted = await Run(broker, "group", "delete", "watchers");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
    }

    [Fact]
    public async Task Usage_errors_exit_with_2_and_unknown_things_with_1()
    {
        foreach (var args in new[]
                 {
                     new[] { "group", "reset-offsets", "g", "--topic", "t" }, ["group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest"],
                     ["group", "reset-offsets", "g", "--to-earliest"], ["group", "reset-offsets", "g", "--topic", "t:x", "--to-earliest"],
                     ["group", "reset-offsets", "g", "--topic", "t", "--to-offset", "-1"], ["group", "list", "--state", "sleepy"], ["group", "describe"],
                 })
        {
            var result = await SamsaCli.RunAsync([.. args, "-b", "127.0.0.1:1"]);
            output.WriteLine($"$ samsa {string.Join(' ', args)}\n{result}");
            Assert.True(result.ExitCode == 2, result.ToString());
        }

        var unreachable = await SamsaCli.RunAsync("group", "describe", "g", "-b", "127.0.0.1:1");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("Could not reach a Samsa broker at 127.0.0.1:1", unreachable.Stderr);
        var help = await SamsaCli.RunAsync("group", "reset-offsets", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--to-datetime", help.Stdout);

        await using var broker = await TestBroker.StartAsync();
        var missingGroup = await Run(broker, "group", "describe", "nobody");
        Assert.Equal(1, missingGroup.ExitCode);
        Assert.Contains("Consumer group 'nobody' does not exist", missingGroup.Stderr);
        var missingTopic = await Run(broker, "group", "reset-offsets", "nobody", "--topic", "nope", "--to-earliest");
        Assert.Equal(1, missingTopic.ExitCode);
        Assert.Contains("Topic 'nope' does not exist", missingTopic.Stderr);
        Assert.Equal("[]", (await Run(broker, "group", "list", "-o", "json")).Stdout.Trim());
    }
}
