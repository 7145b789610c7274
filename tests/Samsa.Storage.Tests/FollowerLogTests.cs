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

    private PartitionLog OpenFollower(string name = "follower") =>
        PartitionLog.Open(Path.Combine(Temp.Path, name + "-0"), name, 0, Small, LogFlushPolicy.GroupCommit, Time, Logger);

    [Fact]
    public void Follower_append_keeps_the_leaders_offsets_epochs_and_bytes()
    {
        using var leader = Open(Small);
        for (int i = 0; i < 6; i++) Append(leader, TestBatches.Build(3, valueSize: 100), epoch: i < 3 ? 4 : 6);
        using var follower = OpenFollower();
        long offset = 0;
        while (offset < leader.LogEndOffset)
        {
            var read = leader.Read(offset, 250, long.MaxValue, minOneBatch: true);
            Assert.True(follower.AppendAsFollower(read.Records).IsSuccess);
            offset = follower.LogEndOffset;
        }
        Assert.Equal(18, follower.LogEndOffset);
        Assert.Equal(leader.LeaderEpochs, follower.LeaderEpochs);
        Assert.Equal([(4, 0L), (6, 9L)], follower.LeaderEpochs);
        Assert.Equal(leader.Read(0, 1 << 20, long.MaxValue, true).Records.ToArray(), follower.Read(0, 1 << 20, long.MaxValue, true).Records.ToArray());
        // A batch below the log end is refused, not written twice.
        Assert.Equal(AppendError.OffsetOutOfRange, follower.AppendAsFollower(leader.Read(0, 100, long.MaxValue, true).Records).Error);
    }

    [Fact]
    public void End_offset_for_epoch_follows_kafkas_leader_epoch_cache()
    {
        using var log = Open();
        Append(log, TestBatches.Build(2), epoch: 3);
        Append(log, TestBatches.Build(2), epoch: 3);
        Append(log, TestBatches.Build(2), epoch: 5);
        Assert.Equal((5, 6L), log.EndOffsetForEpoch(5)); // latest: the log end
        Assert.Equal((3, 4L), log.EndOffsetForEpoch(4)); // between: the floor epoch, ending where the next starts
        Assert.Equal((3, 4L), log.EndOffsetForEpoch(3));
        Assert.Equal((2, 0L), log.EndOffsetForEpoch(2)); // older than all: the start of the first known epoch
        Assert.Equal((-1, -1L), log.EndOffsetForEpoch(6)); // newer than all: undefined
        Assert.Equal((-1, -1L), log.EndOffsetForEpoch(-1));

        // A new leader records its epoch at the log end at once, so the previous epoch's end is known before any append.
        log.AssignEpochStartOffset(7, log.LogEndOffset);
        Assert.Equal((5, 6L), log.EndOffsetForEpoch(5));
        Assert.Equal((7, 6L), log.EndOffsetForEpoch(7));
        log.AssignEpochStartOffset(6, 6); // older than the latest: ignored
        Assert.Equal([(3, 0L), (5, 4L), (7, 6L)], log.LeaderEpochs);
    }

    [Fact]
    public void Truncate_fully_and_start_at_restarts_an_empty_log_at_the_leaders_log_start()
    {
        using (var log = Open(Small))
        {
            for (int i = 0; i < 10; i++) Append(log, TestBatches.Build(1, valueSize: 200), epoch: 1);
            log.TruncateFullyAndStartAt(100);
            Assert.Equal(100, log.LogStartOffset);
            Assert.Equal(100, log.LogEndOffset);
            Assert.Equal(100, log.HighWatermark);
            Assert.Empty(log.LeaderEpochs);
            Assert.Equal(ReadError.OffsetOutOfRange, log.Read(5, 1000, long.MaxValue, true).Error);
            Assert.True(log.AppendAsFollower(TestBatches.Build(2, baseOffset: 100)).IsSuccess);
            Assert.Equal(102, log.LogEndOffset);
            Assert.Single(Directory.GetFiles(PartitionDir, "*.log"));
        }
        using var reopened = Open(Small);
        Assert.Equal(100, reopened.LogStartOffset);
        Assert.Equal(102, reopened.LogEndOffset);
    }
}
