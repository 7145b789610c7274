using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>The `samsa` executable's topic, produce and consume verbs against a real in-process node.</summary>
public sealed class TopicProduceConsumeTests(ITestOutputHelper output)
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

    private static async Task<T> WaitUntil<T>(Func<Task<T>> probe, Func<T, bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (deadline.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException($"timed out waiting for {what}; last: {value}");
            await Task.Delay(50);
        }
    }

    private static JsonElement DescribeJson(SamsaCli.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    private static (string? Value, string Source) Config(JsonElement description, string name)
    {
        var entry = description.GetProperty("configs").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        return (entry.GetProperty("value").GetString(), entry.GetProperty("source").GetString()!);
    }

    [Fact]
    public async Task Tour_create_produce_consume_describe_alter_add_partitions_delete()
    {
        await using var broker = await TestBroker.StartAsync();
        const string topic = "orders";

        var create = await Run(broker, "topic", "create", topic, "--partitions", "3", "--replication-factor", "1", "--config", "cleanup.policy=delete");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Contains("Created topic 'orders'", create.Stderr);

        var list = await Run(broker, "topic", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(list.StdoutLines.Skip(1), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["orders", "3", "1"]);

        var input = new StringBuilder();
        for (int i = 0; i < 1000; i++) input.Append($"key-{i % 50}:value-{i}\n");
        var produce = await RunWithInput(broker, input.ToString(), "produce", topic, "--key-separator", ":", "--header", "source=cli-test", "--compression", "lz4");
        Assert.True(produce.ExitCode == 0, produce.ToString());
        Assert.Contains("Produced 1000 records to topic 'orders'", produce.Stderr);
        Assert.Equal("", produce.Stdout);

        var consume = await Run(broker, "consume", topic, "--format", "json", "--from-beginning", "--max", "1000");
        Assert.True(consume.ExitCode == 0, consume.ToString());
        var lines = consume.StdoutLines;
        Assert.Equal(1000, lines.Length);
        var seen = new HashSet<int>();
        var keyPartition = new Dictionary<string, int>();
        var offsets = new Dictionary<int, List<long>>();
        foreach (var line in lines)
        {
            var record = JsonDocument.Parse(line).RootElement;
            Assert.Equal(topic, record.GetProperty("topic").GetString());
            int partition = record.GetProperty("partition").GetInt32();
            Assert.InRange(partition, 0, 2);
            var value = record.GetProperty("value").GetString()!;
            int i = int.Parse(value["value-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(seen.Add(i), $"duplicate {value}");
            var key = record.GetProperty("key").GetString()!;
            Assert.Equal($"key-{i % 50}", key);
            Assert.Equal(partition, keyPartition.TryAdd(key, partition) ? partition : keyPartition[key]);
            Assert.Equal("cli-test", record.GetProperty("headers").GetProperty("source").GetString());
            Assert.True(record.GetProperty("timestamp").GetInt64() > 0);
            (offsets.TryGetValue(partition, out var list0) ? list0 : offsets[partition] = []).Add(record.GetProperty("offset").GetInt64());
        }

        Assert.Equal(1000, seen.Count);
        foreach (var (_, partitionOffsets) in offsets)
            Assert.Equal(Enumerable.Range(0, partitionOffsets.Count).Select(o => (long)o), partitionOffsets);
        Assert.Contains("Consumed 1000 records", consume.Stderr);

        var describeTable = await Run(broker, "topic", "describe", topic);
        Assert.Equal(0, describeTable.ExitCode);
        Assert.Contains("PARTITION", describeTable.Stdout);
        Assert.Contains("Records: 1000", describeTable.Stdout);

        var described = DescribeJson(await Run(broker, "topic", "describe", topic, "--output", "json"));
        var partitions = described.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(3, partitions.Count);
        Assert.Equal(1000, partitions.Sum(p => p.GetProperty("latestOffset").GetInt64()));
        Assert.All(partitions, p => Assert.Equal(0, p.GetProperty("earliestOffset").GetInt64()));
        Assert.All(partitions, p => Assert.Equal(p.GetProperty("leader").GetInt32(), p.GetProperty("isr")[0].GetInt32()));
        Assert.Equal(("delete", "DYNAMIC_TOPIC_CONFIG"), Config(described, "cleanup.policy"));
        Assert.NotEqual("DYNAMIC_TOPIC_CONFIG", Config(described, "retention.ms").Source);

        var alter = await Run(broker, "topic", "alter-config", topic, "--set", "retention.ms=3600000", "--delete", "cleanup.policy");
        Assert.True(alter.ExitCode == 0, alter.ToString());
        var altered = await WaitUntil(async () => DescribeJson(await SamsaCli.RunAsync(Args(broker, "topic", "describe", topic, "-o", "json")))
            , d => Config(d, "retention.ms").Source == "DYNAMIC_TOPIC_CONFIG", "retention.ms override");
        Assert.Equal(("3600000", "DYNAMIC_TOPIC_CONFIG"), Config(altered, "retention.ms"));
        Assert.NotEqual("DYNAMIC_TOPIC_CONFIG", Config(altered, "cleanup.policy").Source);
        await Run(broker, "topic", "describe", topic);

        var add = await Run(broker, "topic", "add-partitions", topic, "--total", "5");
        Assert.True(add.ExitCode == 0, add.ToString());
        await WaitUntil(async () => DescribeJson(await SamsaCli.RunAsync(Args(broker, "topic", "describe", topic, "-o", "json"))),
            d => d.GetProperty("partitions").GetArrayLength() == 5, "5 partitions");
        var shrink = await Run(broker, "topic", "add-partitions", topic, "--total", "2");
        Assert.Equal(1, shrink.ExitCode);

        var delete = await Run(broker, "topic", "delete", topic);
        Assert.True(delete.ExitCode == 0, delete.ToString());
        await WaitUntil(() => SamsaCli.RunAsync(Args(broker, "topic", "list", "-o", "json")),
            r => r.ExitCode == 0 && JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().All(t => t.GetProperty("name").GetString() != topic),
            "topic gone from list");
        var gone = await Run(broker, "topic", "describe", topic);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Topic 'orders' does not exist", gone.Stderr);
    }

    [Fact]
    public async Task Unreachable_broker_fails_fast_with_a_helpful_message()
    {
        // A port nobody listens on: bind, note, release.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        string address = $"127.0.0.1:{port}";

        foreach (var args in new[] { new[] { "topic", "list" }, ["topic", "describe", "x"], ["consume", "x"] })
        {
            var result = await SamsaCli.RunAsync([.. args, "-b", address]);
            output.WriteLine($"$ samsa {string.Join(' ', args)} -b {address}\n{result}");
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"Could not reach a Samsa broker at {address}", result.Stderr);
            Assert.Contains("samsa server", result.Stderr);
            Assert.True(result.Elapsed < TimeSpan.FromSeconds(8), $"took {result.Elapsed}");
        }

        var produce = await SamsaCli.RunAsync(["produce", "x"], "a\nb\n", environment: new Dictionary<string, string?> { ["SAMSA_BOOTSTRAP_SERVER"] = address });
        Assert.Equal(1, produce.ExitCode);
        Assert.Contains(address, produce.Stderr);
    }

    [Fact]
    public async Task Unknown_topic_is_reported_by_every_verb()
    {
        await using var broker = await TestBroker.StartAsync();
        foreach (var (args, stdin) in new (string[], string?)[]
                 {
                     (["topic", "describe", "nope"], null), (["topic", "delete", "nope"], null), (["topic", "alter-config", "nope", "--set", "retention.ms=1"], null),
                     (["topic", "add-partitions", "nope", "--total", "4"], null), (["produce", "nope"], "a\n"), (["consume", "nope", "--from-beginning"], null),
                 })
        {
            var result = await RunWithInput(broker, stdin, args);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("Topic 'nope' does not exist", result.Stderr);
        }

        // Auto-creation is on in the broker, but the CLI never creates topics by accident.
        var list = await Run(broker, "topic", "list", "-o", "json");
        Assert.Equal("[]", list.Stdout.Trim());

        var ifExists = await Run(broker, "topic", "delete", "nope", "--if-exists");
        Assert.Equal(0, ifExists.ExitCode);

        var badClientConfig = await Run(broker, "topic", "list", "-X", "no.such.property=1");
        Assert.Equal(2, badClientConfig.ExitCode);
        Assert.Contains("no.such.property", badClientConfig.Stderr);
    }

    [Fact]
    public async Task Usage_errors_exit_with_2()
    {
        foreach (var args in new[]
                 {
                     new[] { "topic", "alter-config", "t" }, ["topic", "create", "t", "--config", "novalue"], ["consume", "t", "--format", "xml"],
                     ["consume", "t", "--from-beginning", "--offset", "3"], ["consume", "t", "-f", "%z"], ["produce", "t", "--acks", "2"],
                     ["topic", "add-partitions", "t"], ["topic", "create"], ["consume", "t", "--from-timestamp", "yesterday"],
                 })
        {
            var result = await SamsaCli.RunAsync([.. args, "-b", "127.0.0.1:1"]);
            output.WriteLine($"$ samsa {string.Join(' ', args)}\n{result}");
            Assert.True(result.ExitCode == 2, result.ToString());
        }

        var help = await SamsaCli.RunAsync("consume", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--from-beginning", help.Stdout);
    }

    [Fact]
    public async Task Consume_formats_positions_and_follow()
    {
        await using var broker = await TestBroker.StartAsync();
        Assert.Equal(0, (await Run(broker, "topic", "create", "events", "-p", "2")).ExitCode);
        var produce = await RunWithInput(broker, "k1|one\nk2|two\nthree\n", "produce", "events", "-K", "|", "-p", "1", "-H", "a=1", "-H", "b=x=y");
        Assert.True(produce.ExitCode == 0, produce.ToString());

        var template = await Run(broker, "consume", "events", "--from-beginning", "-f", @"%t/%p/%o %k=%s [%h] %%\n");
        Assert.Equal(["events/1/0 k1=one [a=1,b=x=y] %", "events/1/1 k2=two [a=1,b=x=y] %", "events/1/2 =three [a=1,b=x=y] %"], template.StdoutLines);

        var kv = await Run(broker, "consume", "events", "--from-beginning", "--format", "kv", "-K", ",");
        Assert.Equal(["k1,one", "k2,two", ",three"], kv.StdoutLines);

        var values = await Run(broker, "consume", "events", "--offset", "1", "--partition", "1");
        Assert.Equal(["two", "three"], values.StdoutLines);
        var last = await Run(broker, "consume", "events", "--offset", "-1");
        Assert.Equal(["three"], last.StdoutLines);
        var fromTime = await Run(broker, "consume", "events", "--from-timestamp", DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"));
        Assert.Equal(3, fromTime.StdoutLines.Length);
        var future = await Run(broker, "consume", "events", "--from-timestamp", DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString());
        Assert.Equal((0, ""), (future.ExitCode, future.Stdout));

        // Default start is the end: without --follow it exits at once with nothing.
        var atEnd = await Run(broker, "consume", "events");
        Assert.Equal((0, ""), (atEnd.ExitCode, atEnd.Stdout));

        // --follow waits for records produced after it started; wait for its assignment (stderr is quiet until the end),
        // by producing repeatedly until the follower has exited with its two records.
        var follower = SamsaCli.RunAsync(Args(broker, "consume", "events", "--follow", "--max", "2", "--format", "value"), timeout: TimeSpan.FromSeconds(30));
        int round = 0;
        while (!follower.IsCompleted && round < 200)
        {
            var p = await SamsaCli.RunAsync(Args(broker, "produce", "events", "-p", "0", "-q"), $"late-{round++}\n");
            Assert.Equal(0, p.ExitCode);
            await Task.WhenAny(follower, Task.Delay(200));
        }

        var followed = await follower;
        output.WriteLine(followed.ToString());
        Assert.Equal(0, followed.ExitCode);
        Assert.Equal(2, followed.StdoutLines.Length);
        Assert.All(followed.StdoutLines, l => Assert.StartsWith("late-", l));
    }

    [Fact]
    public async Task Consume_with_a_group_commits_and_resumes()
    {
        await using var broker = await TestBroker.StartAsync();
        Assert.Equal(0, (await Run(broker, "topic", "create", "grouped", "-p", "2")).ExitCode);
        Assert.Equal(0, (await RunWithInput(broker, "a\nb\nc\nd\n", "produce", "grouped")).ExitCode);

        var first = await Run(broker, "consume", "grouped", "--group", "g1", "--from-beginning", "--max", "2", "--timeout", "3");
        if (first.ExitCode == 1 && first.Stderr.Contains("Could not join consumer group 'g1'", StringComparison.Ordinal))
        {
            // The failure path is bounded and explained; the rest needs the broker's group coordinator.
            Assert.True(first.Elapsed < TimeSpan.FromSeconds(20), first.ToString());
            Assert.Skip("the broker does not implement the consumer group APIs yet");
        }

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(2, first.StdoutLines.Length);
        var rest = await Run(broker, "consume", "grouped", "--group", "g1", "--from-beginning");
        Assert.True(rest.ExitCode == 0, rest.ToString());
        Assert.Equal(["a", "b", "c", "d"], first.StdoutLines.Concat(rest.StdoutLines).Order());
    }
}
