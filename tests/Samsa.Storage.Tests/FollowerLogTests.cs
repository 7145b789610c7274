namespace Samsa.Storage.Tests;

/// <summary>The follower side of the log: appends that keep the leader's offsets and epochs, truncation to a divergence point.</summary>
public sealed class FollowerLogTests : LogTestBase
{
    private static readonly LogConfig Small = LogConfig.Default with { SegmentBytes = 1000, FileDeleteDelayMs = 0 };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Truncate_to_a_segment_boundary_keeps_the_previous_segment_whole_and_appends_continue(int segment)
    {
        long boundary;
        using (var log = Open(Small))
        {
            for (int i = 0; i < 20; i++) Append(log, TestBatches.Build(1, valueSize: 200), epoch: i < 10 ? 0 : 1);
            Assert.True(log.SegmentCount >= 4);
            int index = segment >= 0 ? segment : log.SegmentCount - 1;
            boundary = log.Segments[index].BaseOffset;
            long lastOfPrevious = boundary - 1;
            log.Truncate(boundary);
            Assert.Equal(boundary, log.LogEndOffset);
            Assert.Equal(index, log.SegmentCount);
            Assert.Equal(index, Directory.GetFiles(PartitionDir, "*.log").Length);
            Assert.Equal(boundary > 10 ? 1 : 0, log.LatestLeaderEpoch);
            var read = log.Read(lastOfPrevious, 10_000, long.MaxValue, true);
            Assert.Equal(lastOfPrevious, TestBatches.Parse(read.Records.Span)[0].Base);
            Append(log, TestBatches.Build(1, valueSize: 200), epoch: 2);
            Assert.Equal(boundary + 1, log.LogEndOffset);
            Assert.Equal(boundary, Assert.Single(TestBatches.Parse(log.Read(boundary, 10_000, long.MaxValue, true).Records.Span)).Base);
        }
        using var reopened = Open(Small);
        Assert.Equal(boundary + 1, reopened.LogEndOffset);
        var all = new List<long>();
        for (long o = 0; o < reopened.LogEndOffset;)
        {
            var batches = TestBatches.Parse(reopened.Read(o, 100_000, long.MaxValue, true).Records.Span);
            all.AddRange(batches.Select(b => b.Base));
            o = batches[^1].Last + 1;
        }
        Assert.Equal(Enumerable.Range(0, (int)boundary + 1).Select(i => (long)i), all);
    }
}
