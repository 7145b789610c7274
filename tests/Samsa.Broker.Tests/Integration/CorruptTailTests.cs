using System.Buffers.Binary;
using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// A torn or corrupt tail of the last segment (found after a graceful stop) is cut back to the last valid batch on
/// start: the node starts, says what it cut, serves everything before it, and appends after it.
/// </summary>
public sealed class CorruptTailTests
{
    private const string Topic = "corrupt-tail";

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(60)]
    public async Task Truncated_last_segment_is_cut_to_the_last_whole_batch(int bytesCut)
    {
        await using var broker = await TestBroker.StartAsync();
        var produced = await ProduceInRoundsAsync(broker);
        await broker.Host.DisposeAsync();

        var (path, batches) = LastSegment(broker.DataDir);
        var last = batches[^1];
        long fileSize = new FileInfo(path).Length;
        Assert.Equal(last.Position + last.Size, fileSize);
        Assert.True(bytesCut < last.Size);
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
            RandomAccess.SetLength(file, fileSize - bytesCut);

        await StartAgainAndCheckAsync(broker, produced, last, last.Size - bytesCut, "declares");
    }

    [Theory]
    [InlineData(0)] // first byte of the records
    [InlineData(-1)] // last byte of the batch
    public async Task Flipped_bytes_in_the_last_batch_are_detected_by_crc_and_cut(int at)
    {
        await using var broker = await TestBroker.StartAsync();
        var produced = await ProduceInRoundsAsync(broker);
        await broker.Host.DisposeAsync();

        var (path, batches) = LastSegment(broker.DataDir);
        var last = batches[^1];
        long position = at >= 0 ? last.Position + 61 + at : last.Position + last.Size + at;
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
        {
            var b = new byte[1];
            RandomAccess.Read(file, b, position);
            b[0] ^= 0x5A;
            RandomAccess.Write(file, b, position);
        }

        await StartAgainAndCheckAsync(broker, produced, last, last.Size, "CRC mismatch");
    }

    private static async Task StartAgainAndCheckAsync(TestBroker broker, Dictionary<(int Partition, long Offset), (string Key, string Value)> produced,
        Batch last, long expectedCut, string reason)
    {
        int linesBefore = broker.Logs.Lines.Count;
        await broker.RestartAsync(); // Host already disposed; disposing again is a no-op
        var warning = broker.Logs.Lines.Skip(linesBefore).SingleOrDefault(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Truncated", StringComparison.Ordinal));
        Assert.NotNull(warning);
        TestContext.Current.TestOutputHelper?.WriteLine(warning);
        Assert.Contains($"Truncated {expectedCut} bytes at position {last.Position} of segment", warning, StringComparison.Ordinal);
        Assert.Contains($"offsets from {last.BaseOffset} on are gone", warning, StringComparison.Ordinal);
        Assert.Contains(reason, warning, StringComparison.Ordinal);

        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "wm" }).Build())
        {
            var wm = consumer.QueryWatermarkOffsets(new TopicPartition(Topic, 0), TimeSpan.FromSeconds(10));
            Assert.Equal(0, wm.Low.Value);
            Assert.Equal(last.BaseOffset, wm.High.Value);
        }

        var consumed = RoundTripTests.ConsumeAll(broker.BootstrapServers, Topic, (int)last.BaseOffset);
        Assert.Equal(last.BaseOffset, consumed.Count);
        foreach (var r in consumed)
            Assert.Equal(produced[(0, r.Offset.Value)], (r.Message.Key, r.Message.Value));

        var more = await RestartTests.ProduceAsync(broker.BootstrapServers, Topic, Enumerable.Range(0, 50).Select(i => ("k", "after-" + i)), partition: 0);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => last.BaseOffset + i), more.Keys.Select(k => k.Offset).Order());
        var all = RoundTripTests.ConsumeAll(broker.BootstrapServers, Topic, (int)last.BaseOffset + 50);
        Assert.Equal(Enumerable.Range(0, (int)last.BaseOffset + 50).Select(i => (long)i), all.Select(r => r.Offset.Value));
        Assert.Equal("after-49", all[^1].Message.Value);
    }

    /// <summary>20 rounds of 50 records, each round acknowledged before the next, so the log holds many batches over several segments.</summary>
    private static async Task<Dictionary<(int Partition, long Offset), (string Key, string Value)>> ProduceInRoundsAsync(TestBroker broker)
    {
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, Topic, 1, new() { ["segment.bytes"] = "8192" });
        var produced = new Dictionary<(int, long), (string, string)>();
        var config = new ProducerConfig { BootstrapServers = broker.BootstrapServers, Acks = Acks.All, EnableIdempotence = true, LingerMs = 1 };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        for (int round = 0; round < 20; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(round * 50, 50).Select(i => producer.ProduceAsync(new TopicPartition(Topic, 0),
                new Message<string, string> { Key = "key-" + i, Value = $"value-{i}-" + new string('x', 40) })));
            foreach (var r in results) produced.Add((r.Partition.Value, r.Offset.Value), (r.Message.Key, r.Message.Value));
        }
        Assert.Equal(1000, produced.Count);
        return produced;
    }

    internal readonly record struct Batch(long Position, int Size, long BaseOffset, long LastOffset);

    internal static (string Path, List<Batch> Batches) LastSegment(string dataDir)
    {
        string dir = Path.Combine(dataDir, Topic + "-0");
        var logs = Directory.GetFiles(dir, "*.log").Order(StringComparer.Ordinal).ToList();
        Assert.True(logs.Count >= 3, $"expected several segments, found {logs.Count}");
        return (logs[^1], ReadBatches(logs[^1]));
    }

    internal static List<Batch> ReadBatches(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var batches = new List<Batch>();
        int at = 0;
        while (at < bytes.Length)
        {
            var span = bytes.AsSpan(at);
            long baseOffset = BinaryPrimitives.ReadInt64BigEndian(span);
            int size = 12 + BinaryPrimitives.ReadInt32BigEndian(span[8..]);
            int lastDelta = BinaryPrimitives.ReadInt32BigEndian(span[23..]);
            batches.Add(new Batch(at, size, baseOffset, baseOffset + lastDelta));
            at += size;
        }
        Assert.NotEmpty(batches);
        return batches;
    }
}
