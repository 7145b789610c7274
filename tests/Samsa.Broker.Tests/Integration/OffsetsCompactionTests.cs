using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// __consumer_offsets is compacted by the log cleaner: thousands of commits shrink to about one record per group and
/// partition, and the coordinator rebuilt from the compacted log after a restart serves exactly the last commits.
/// </summary>
public sealed class OffsetsCompactionTests(ITestOutputHelper output)
{
    private const string Topic = "oc-source";
    private const string Group = "oc-group";
    private const int Partitions = 3;
    private const int RecordsPerPartition = 1000;
    private const int Rounds = 1500;

    [Fact]
    public async Task Offsets_topic_is_compacted_and_replays_the_last_commits_after_restart()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "1",
            ["offsets.topic.segment.bytes"] = "16384",
            ["log.cleaner.backoff.ms"] = "50",
            // Off while committing, so the uncompacted size can be measured; switched on by a restart below.
            ["log.cleaner.enable"] = "false",
        });
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, Topic, Partitions);
        for (int p = 0; p < Partitions; p++)
            await RestartTests.ProduceAsync(broker.BootstrapServers, Topic,
                Enumerable.Range(0, RecordsPerPartition).Select(i => ($"k{i}", $"p{p}-v{i}")), partition: p);

        // Thousands of commits (one OffsetCommit request, one batch, each) that go up and down, so only the last one is right.
        var last = new long[Partitions];
        var watch = Stopwatch.StartNew();
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
               {
                   BootstrapServers = broker.BootstrapServers, GroupId = Group, EnableAutoCommit = false,
               }).Build())
        {
            for (int round = 0; round < Rounds; round++)
            {
                for (int p = 0; p < Partitions; p++) last[p] = (round * 37L + p * 101) % (RecordsPerPartition - 100) + 1;
                consumer.Commit(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(Topic, p, last[p])));
            }
        }
        output.WriteLine($"{Rounds} commits of {Partitions} partitions in {watch.Elapsed.TotalSeconds:F1}s; last {string.Join(",", last)}");

        var offsetsPartition = new[] { ("topic", "__consumer_offsets"), ("partition", "0") };
        string scrape;
        using (var before = new HttpClient { BaseAddress = broker.Host.HttpEndpoint })
            scrape = await before.GetStringAsync("metrics", ct);
        double sizeBefore = Sample(scrape, "samsa_partition_log_size_bytes", offsetsPartition)!.Value;
        double endOffset = Sample(scrape, "samsa_partition_log_end_offset", offsetsPartition)!.Value;
        output.WriteLine($"__consumer_offsets-0 before cleaning: {sizeBefore:F0} bytes, log end offset {endOffset}");
        Assert.True(endOffset >= Rounds * Partitions, $"log end offset {endOffset}");
        Assert.Null(Sample(scrape, "samsa_log_cleaner_last_clean_timestamp_seconds", offsetsPartition));

        // Restart with the cleaner on (the coordinator replays the uncompacted log), and let it clean in the background.
        await broker.RestartAsync(new Dictionary<string, string> { ["log.cleaner.enable"] = "true" });
        using var http = new HttpClient { BaseAddress = broker.Host.HttpEndpoint };

        // Wait for the background cleaner to have cleaned every closed segment: dirty ratio 0 and a recent pass.
        double size = sizeBefore, ratio = 1;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            scrape = await http.GetStringAsync("metrics", ct);
            size = Sample(scrape, "samsa_partition_log_size_bytes", offsetsPartition)!.Value;
            ratio = Sample(scrape, "samsa_log_cleaner_dirty_ratio", offsetsPartition) ?? 1;
            if (ratio == 0 && Sample(scrape, "samsa_log_cleaner_last_clean_timestamp_seconds", offsetsPartition) is not null) break;
            await Task.Delay(50, ct);
        }
        foreach (var line in scrape.Split('\n').Where(l => l.StartsWith("samsa_log_cleaner", StringComparison.Ordinal)))
            output.WriteLine(line);
        output.WriteLine($"__consumer_offsets-0 after cleaning: {size:F0} bytes (dirty ratio {ratio})");
        Assert.Equal(0, ratio);
        // Everything below the active segment (16 KiB) is down to about one record per partition plus the group's.
        Assert.True(size < 2 * 16384, $"size after cleaning {size}");
        Assert.True(size < sizeBefore / 10, $"before {sizeBefore}, after {size}");

        // Restart again: this time the coordinator is rebuilt from the compacted log (offset gaps, kept tombstones).
        // The coordinator loads in the background after the restart: wait for this incarnation's load line, not the
        // previous one's (which replayed the uncompacted log).
        static bool IsLoadLine(string l) => l.Contains("Loaded group coordinator for __consumer_offsets-0", StringComparison.Ordinal);
        int loadsBefore = broker.Logs.Lines.Count(IsLoadLine);
        await broker.RestartAsync();
        var waited = Stopwatch.StartNew();
        while (broker.Logs.Lines.Count(IsLoadLine) <= loadsBefore && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20, ct);
        var loaded = broker.Logs.Lines.Last(IsLoadLine);
        output.WriteLine(loaded);
        int replayed = int.Parse(System.Text.RegularExpressions.Regex.Match(loaded, @"from (\d+) records").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(replayed, Partitions, endOffset / 10);

        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            var listed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(Group, null)]);
            var committed = listed[0].Partitions.ToDictionary(p => p.Partition.Value, p => p.Offset.Value);
            output.WriteLine("committed after restart: " + string.Join(", ", committed.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));
            Assert.Equal(Enumerable.Range(0, Partitions).ToDictionary(p => p, p => last[p]), committed);
        }

        // A consumer of the group resumes exactly at the committed offsets.
        var firstSeen = new Dictionary<int, ConsumeResult<string, string>>();
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
               {
                   BootstrapServers = broker.BootstrapServers, GroupId = Group, EnableAutoCommit = false,
                   AutoOffsetReset = AutoOffsetReset.Error,
               }).Build())
        {
            consumer.Subscribe(Topic);
            var until = Stopwatch.StartNew();
            while (firstSeen.Count < Partitions && until.Elapsed < TimeSpan.FromSeconds(30))
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } r)
                    firstSeen.TryAdd(r.Partition.Value, r);
            consumer.Close();
        }
        Assert.Equal(Partitions, firstSeen.Count);
        for (int p = 0; p < Partitions; p++)
        {
            Assert.Equal(last[p], firstSeen[p].Offset.Value);
            Assert.Equal($"p{p}-v{last[p]}", firstSeen[p].Message.Value);
        }
    }

    /// <summary>The value of one sample of the Prometheus text whose labels include <paramref name="labels"/>, or null.</summary>
    private static double? Sample(string text, string name, params (string Key, string Value)[] labels)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal)) continue;
            if (!labels.All(l => line.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal))) continue;
            return double.Parse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        return null;
    }
}
