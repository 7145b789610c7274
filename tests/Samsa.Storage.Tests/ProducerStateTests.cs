namespace Samsa.Storage.Tests;

public sealed class ProducerStateTests : LogTestBase
{
    private static byte[] Batch(int seq, int count = 2, short epoch = 0, long pid = 42) =>
        TestBatches.Build(count, producerId: pid, producerEpoch: epoch, baseSequence: seq);

    [Fact]
    public void Duplicate_batch_returns_original_offsets_and_is_not_appended()
    {
        using var log = Open();
        Append(log, TestBatches.Build(3));
        var first = Append(log, Batch(0));
        var second = Append(log, Batch(2));
        Assert.Equal((3L, 4L), (first.BaseOffset, first.LastOffset));

        var dup = Append(log, Batch(0));
        Assert.True(dup.Duplicate);
        Assert.Equal(AppendError.None, dup.Error);
        Assert.Equal((3L, 4L), (dup.BaseOffset, dup.LastOffset));
        var dup2 = Append(log, Batch(2));
        Assert.True(dup2.Duplicate);
        Assert.Equal(second.BaseOffset, dup2.BaseOffset);
        Assert.Equal(7, log.LogEndOffset);
    }

    [Fact]
    public void Only_the_last_five_batches_are_remembered()
    {
        using var log = Open();
        for (int i = 0; i < 6; i++) Append(log, Batch(i * 2));
        Assert.False(Append(log, Batch(0)).Duplicate);
        Assert.Equal(AppendError.OutOfOrderSequence, Append(log, Batch(0)).Error);
        Assert.True(Append(log, Batch(2)).Duplicate);
    }

    [Fact]
    public void Sequence_gap_is_out_of_order()
    {
        using var log = Open();
        Append(log, Batch(0));
        Assert.Equal(AppendError.OutOfOrderSequence, Append(log, Batch(5)).Error);
        Assert.Equal(2, log.LogEndOffset);
        Assert.Equal(AppendError.None, Append(log, Batch(2)).Error);
    }

    [Fact]
    public void Stale_epoch_is_rejected_and_new_epoch_must_start_at_zero()
    {
        using var log = Open();
        Append(log, Batch(0, epoch: 1));
        Assert.Equal(AppendError.InvalidProducerEpoch, Append(log, Batch(2, epoch: 0)).Error);
        Assert.Equal(AppendError.OutOfOrderSequence, Append(log, Batch(2, epoch: 2)).Error);
        Assert.Equal(AppendError.None, Append(log, Batch(0, epoch: 2)).Error);
        Assert.Equal(AppendError.InvalidProducerEpoch, Append(log, Batch(2, epoch: 1)).Error);
    }

    [Fact]
    public void Producers_are_independent()
    {
        using var log = Open();
        Assert.Equal(AppendError.None, Append(log, Batch(0, pid: 1)).Error);
        Assert.Equal(AppendError.None, Append(log, Batch(0, pid: 2)).Error);
        Assert.Equal(AppendError.None, Append(log, Batch(2, pid: 1)).Error);
    }

    [Fact]
    public void Sequence_wraps_at_int_max()
    {
        using var log = Open();
        Append(log, Batch(int.MaxValue - 1, count: 2));
        Assert.Equal(AppendError.None, Append(log, Batch(0)).Error);
    }

    [Fact]
    public void Producer_state_survives_clean_reopen()
    {
        using (var log = Open())
        {
            Append(log, Batch(0));
            Append(log, Batch(2));
        }
        Assert.NotEmpty(Directory.GetFiles(PartitionDir, "*.snapshot"));
        using var reopened = Open();
        var dup = Append(reopened, Batch(2));
        Assert.True(dup.Duplicate);
        Assert.Equal(2, dup.BaseOffset);
        Assert.Equal(AppendError.OutOfOrderSequence, Append(reopened, Batch(7)).Error);
        Assert.Equal(AppendError.None, Append(reopened, Batch(4)).Error);
    }

    [Fact]
    public void Producer_state_is_rebuilt_from_the_log_after_a_crash()
    {
        var log = Open(LogConfig.Default with { SegmentBytes = 300 });
        for (int i = 0; i < 10; i++) Append(log, Batch(i * 2));
        log.Flush();
        foreach (var s in log.Segments) s.Dispose();

        using var reopened = Open(LogConfig.Default with { SegmentBytes = 300 });
        Assert.True(Append(reopened, Batch(18)).Duplicate);
        Assert.Equal(AppendError.None, Append(reopened, Batch(20)).Error);
    }
}
