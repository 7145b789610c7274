namespace Samsa.Storage.Tests;

public sealed class ConcurrencyTests : LogTestBase
{
    [Fact]
    public async Task Readers_run_concurrently_with_appends_rolls_and_retention()
    {
        using var log = Open(LogConfig.Default with { SegmentBytes = 2048, IndexIntervalBytes = 256, RetentionBytes = 20_000, FileDeleteDelayMs = 60_000 });
        var ct = TestContext.Current.CancellationToken;
        using var done = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                Assert.Equal(AppendError.None, Append(log, TestBatches.Build(1 + i % 3, valueSize: 30)).Error);
                log.HighWatermark = log.LogEndOffset;
                if (i % 100 == 0) log.DeleteOldSegments();
            }
            done.Cancel();
        }, ct);
        var readers = Enumerable.Range(0, 4).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            int reads = 0;
            while (!done.IsCancellationRequested || reads < 100)
            {
                long start = log.LogStartOffset, hw = log.HighWatermark;
                if (hw <= start) continue;
                long offset = random.NextInt64(start, hw);
                var r = log.Read(offset, 1000, hw, true);
                if (r.Error == ReadError.OffsetOutOfRange) continue; // retention moved past it meanwhile
                var batches = TestBatches.Parse(r.Records.Span);
                Assert.True(batches.Count > 0, $"offset {offset} start {start} hw {hw} now start {log.LogStartOffset} segments {string.Join(",", log.Segments.Select(x => x.BaseOffset + ":" + x.Size))}");
                Assert.InRange(offset, batches[0].Base, batches[0].Last);
                Assert.True(batches[^1].Last < hw);
                reads++;
            }
        }, ct)).ToList();
        await Task.WhenAll([writer, .. readers]);
        Assert.True(log.LogStartOffset > 0);
    }

    [Fact]
    public void Follower_append_keeps_offsets_and_rejects_going_backwards()
    {
        using var log = Open();
        var r = log.AppendAsFollower(TestBatches.Build(3, baseOffset: 0));
        Assert.Equal((0L, 2L), (r.BaseOffset, r.LastOffset));
        Assert.Equal(AppendError.OffsetOutOfRange, log.AppendAsFollower(TestBatches.Build(1, baseOffset: 1)).Error);
        Assert.Equal(AppendError.None, log.AppendAsFollower(TestBatches.Build(1, baseOffset: 3)).Error);
        Assert.Equal(4, log.LogEndOffset);
    }
}
